/*
 * The SLA policy file: every figure of cfd_policy as INI (config/policy.ini holds the
 * defaults), loaded and validated at start-up.
 */
#ifndef CONFIRMD_POLICY_FILE_H
#define CONFIRMD_POLICY_FILE_H

#include "confirmd/policy.h"

/*
 * Loads path into *pol: starts from cfd_policy_defaults(), applies every key of the
 * file (unknown sections and keys are errors), validates and seals the result. On
 * error *pol is left at the defaults and errstr reads "path:line: error: message".
 * @returns CFD_OK or CFD_ERR_CONFIG.
 */
cfd_err cfd_policy_file_load(const char *path, cfd_policy *pol, char *errstr,
                             size_t errstr_size);

#endif
