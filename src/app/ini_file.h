/*
 * Private to src/app: the one INI reader of the configuration file and the policy
 * file. libinih parses; this adds what it does not check (lines too long, indented
 * lines it would take as continuations, unknown sections) and reports the first
 * error of a file as "<path>:<line>: error: <what>".
 */
#ifndef CFD_APP_INI_FILE_H
#define CFD_APP_INI_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "confirmd/types.h"

/* Takes "[section] name = value". @returns 0, or -1 with the reason in err. */
typedef int (*cfd_ini_value_fn)(void *user, const char *section, const char *name,
                                const char *value, char *err, size_t err_size);

/* @returns true when a section of that name (not NUL-terminated) may appear. */
typedef bool (*cfd_ini_section_fn)(void *user, const char *name, size_t len);

/*
 * Reads path, handing every value to on_value until the first error.
 * @returns CFD_OK, or CFD_ERR_CONFIG with "<path>[:<line>]: error: ..." in errstr.
 */
cfd_err cfd_ini_load(const char *path, cfd_ini_value_fn on_value,
                     cfd_ini_section_fn known_section, void *user, char *errstr,
                     size_t errstr_size);

#endif
