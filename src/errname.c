/* errname.c - symbolic names of the Win32 codes portheap reports. */
#include "internal.h"

const char* ph_error_name(uint32_t code) {
  switch (code) {
  case PH_NO_ERROR: return "NO_ERROR";
  case PH_ERROR_INVALID_FUNCTION: return "ERROR_INVALID_FUNCTION";
  case PH_ERROR_INVALID_HANDLE: return "ERROR_INVALID_HANDLE";
  case PH_ERROR_NOT_ENOUGH_MEMORY: return "ERROR_NOT_ENOUGH_MEMORY";
  case PH_ERROR_OUTOFMEMORY: return "ERROR_OUTOFMEMORY";
  case PH_ERROR_GEN_FAILURE: return "ERROR_GEN_FAILURE";
  case PH_ERROR_INVALID_PARAMETER: return "ERROR_INVALID_PARAMETER";
  case PH_ERROR_CALL_NOT_IMPLEMENTED: return "ERROR_CALL_NOT_IMPLEMENTED";
  case PH_ERROR_INSUFFICIENT_BUFFER: return "ERROR_INSUFFICIENT_BUFFER";
  case PH_ERROR_NOT_LOCKED: return "ERROR_NOT_LOCKED";
  case PH_ERROR_NO_MORE_ITEMS: return "ERROR_NO_MORE_ITEMS";
  case PH_ERROR_ARITHMETIC_OVERFLOW: return "ERROR_ARITHMETIC_OVERFLOW";
  case PH_ERROR_NOACCESS: return "ERROR_NOACCESS";
  default: return "unknown error";
  }
}
