/* The JSON Schema of the config file, derived from the field tables. */
#ifndef MXLB_SCHEMA_H
#define MXLB_SCHEMA_H

#include <jansson.h>

json_t	*config_schema(void);

#endif
