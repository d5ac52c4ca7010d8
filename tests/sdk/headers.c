/* The SDK's C headers compile as strict C11 and describe the layout the ABI promises. */
#include <stdio.h>

#include "pgmcp/driver.h"
#include "pgmcp/llm.h"
#include "pgmcp/plugin.h"
#include "pgmcp/ratelimit.h"

_Static_assert(PGMCP_PLUGIN_V1_SIZE == sizeof(pgmcp_plugin), "v1 descriptor is the whole struct");
_Static_assert(offsetof(pgmcp_plugin, struct_size) == 0, "struct_size comes first");
_Static_assert(offsetof(pgmcp_host, struct_size) == 0, "struct_size comes first");
_Static_assert(offsetof(pgmcp_ratelimit_v1, struct_size) == 0, "struct_size comes first");
_Static_assert(offsetof(pgmcp_llm_v1, struct_size) == 0, "struct_size comes first");
_Static_assert(offsetof(pgmcp_driver_v1, struct_size) == 0, "struct_size comes first");

int main(void) {
  pgmcp_ratelimit_result r = {0};
  r.struct_size = (uint32_t)offsetof(pgmcp_ratelimit_result, retry_after_us);
  /* A reader must not trust a field past struct_size. */
  if (!PGMCP_HAS_FIELD(pgmcp_ratelimit_result, r.struct_size, waited_us)) return 1;
  if (PGMCP_HAS_FIELD(pgmcp_ratelimit_result, r.struct_size, retry_after_us)) return 1;
  printf("C %ld: ABI %d.%d\n", (long)__STDC_VERSION__, PGMCP_ABI_MAJOR, PGMCP_ABI_MINOR);
  return 0;
}
