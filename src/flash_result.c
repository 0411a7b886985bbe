/* Text for flash_result values: what a user reads when flash refuses an operation. */
#include "flash.h"

const char *flash_result_str(enum flash_result r)
{
  switch (r) {
  case FLASH_OK:              return "ok";
  case FLASH_ERR_RANGE:       return "address outside the flash";
  case FLASH_ERR_ALIGN:       return "misaligned access";
  case FLASH_ERR_PROTECTED:   return "sector is write protected";
  case FLASH_ERR_SEQUENCE:    return "programming sequence error";
  case FLASH_ERR_PARALLELISM: return "access width does not match the programming parallelism";
  case FLASH_ERR_LOCKED:      return "flash control register is locked";
  case FLASH_ERR_IO:          /* only a store that needs sync fails so */
    if (FLASH_SYNC_NEEDED)
      return "the flash's backing store is gone or cannot be written (iapd: restart it)";
    break;
  case FLASH_ERR_VERIFY:      return "read back differs from what was programmed";
  }
  return "unknown flash error";
}
