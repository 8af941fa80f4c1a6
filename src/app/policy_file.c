/*
 * The SLA policy file: one declarative table of keys, each with its parser and the
 * figure of cfd_policy it sets; see include/confirmd/policy_file.h and
 * config/policy.ini for the layout.
 */
#include "confirmd/policy_file.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "confirmd/config.h"
#include "ini_file.h"

typedef enum pkey_type {
    PK_DURATION, /* int64_t ms: "15min", "4h", "1d" */
    PK_BOOL,     /* bool */
    PK_POINTS,   /* int, >= 0 */
    PK_PERCENT,  /* int, 0..100 */
    PK_WARN,     /* int[2]: "50, 80" */
    PK_OFFSET,   /* int minutes east of UTC: "+480", "-300" */
    PK_QUIET,    /* quiet windows: "12:00-14:30, 21:00-08:30" or "none" */
    PK_SERIAL,   /* cfd_serial_date: "YYYYMMDD", "YYMM", "none" */
    PK_CHAIN,    /* recipient chain: "engineer, team_leader, ..." */
} pkey_type;

typedef struct pkey {
    const char *name; /* "section.key" */
    pkey_type type;
    size_t offset; /* in cfd_policy */
} pkey;

#define P(f) offsetof(cfd_policy, f)
#define ROW(sec, f)                                                \
    {sec ".contact", PK_DURATION, P(f.contact_ms)},                \
        {sec ".onsite", PK_DURATION, P(f.onsite_ms)},              \
        {sec ".restoration", PK_DURATION, P(f.restoration_ms)},    \
    {                                                              \
        sec ".quiet_hours_move", PK_BOOL, P(f.contact_quiet_moves) \
    }

static const pkey keys[] = {
    ROW("sla.aaa", tier[CFD_TIER_AAA]),
    ROW("sla.aa", tier[CFD_TIER_AA]),
    ROW("sla.a", tier[CFD_TIER_A]),
    ROW("sla.standard", tier[CFD_TIER_STANDARD]),
    ROW("sla.urgent", urgent),
    ROW("sla.general", general),
    {"sla.warn_pct", PK_WARN, P(warn_pct)},
    {"sla.escalation_interval", PK_DURATION, P(escalation_ms)},
    {"sla.recipients", PK_CHAIN, P(chain)},
    {"duties.cause_ordinary", PK_DURATION, P(cause_ms[CFD_ORDINARY])},
    {"duties.cause_special", PK_DURATION, P(cause_ms[CFD_SPECIAL])},
    {"duties.event_report_ordinary", PK_DURATION, P(event_report_ms[CFD_ORDINARY])},
    {"duties.event_report_special", PK_DURATION, P(event_report_ms[CFD_SPECIAL])},
    {"duties.aaa_parallel_pct", PK_PERCENT, P(aaa_parallel_pct)},
    {"time.utc_offset", PK_OFFSET, P(utc_offset_min)},
    {"time.quiet_hours", PK_QUIET, P(quiet)},
    {"lifecycle.reschedule_notice", PK_DURATION, P(reschedule_notice_ms)},
    {"lifecycle.absent_wait", PK_DURATION, P(absent_wait_ms)},
    {"lifecycle.observation_window", PK_DURATION, P(observation_window_ms)},
    {"alarm.customer_storm_window", PK_DURATION, P(customer_storm_window_ms)},
    {"penalty.late_arrival", PK_POINTS, P(points.late_arrival)},
    {"penalty.cause_late_per_day", PK_POINTS, P(points.cause_late_per_day)},
    {"penalty.event_report_late_per_day", PK_POINTS, P(points.event_report_late_per_day)},
    {"penalty.nonconforming_per_item", PK_POINTS, P(points.nonconforming_per_item)},
    {"penalty.broken_commitment", PK_POINTS, P(points.broken_commitment)},
    {"penalty.complaint", PK_POINTS, P(points.complaint)},
    {"penalty.temporary_fix_per_day", PK_POINTS, P(points.temporary_fix_per_day)},
    {"penalty.parts_late_per_day", PK_POINTS, P(points.parts_late_per_day)},
    {"parts.serial_date", PK_SERIAL, P(serial_date)},
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/* "HH:MM" -> minutes after midnight; @returns -1 when malformed. */
static int parse_hhmm(const char *s, const char **end)
{
    int h = 0, m = 0, n = 0;

    if (sscanf(s, "%2d:%2d%n", &h, &m, &n) != 2 || h < 0 || h > 23 || m < 0 || m > 59)
        return -1;
    *end = s + n;
    return h * 60 + m;
}

/* Steps *p over the spaces and the comma after an item of a list. @returns 0, or -1
 * when something else follows the item. */
static int list_next(const char **p)
{
    while (**p == ' ')
        (*p)++;
    if (**p == ',')
        (*p)++;
    else if (**p != '\0')
        return -1;
    while (**p == ' ')
        (*p)++;
    return 0;
}

static int parse_quiet(const char *v, cfd_policy *pol)
{
    const char *p = v;
    int n = 0;

    while (*p == ' ')
        p++;
    if (strcasecmp(p, "none") == 0 || *p == '\0') {
        pol->n_quiet = 0;
        return 0;
    }
    while (*p) {
        int a, b;

        if (n == CFD_QUIET_MAX || (a = parse_hhmm(p, &p)) < 0 || *p++ != '-' ||
            (b = parse_hhmm(p, &p)) < 0 || a == b)
            return -1;
        pol->quiet[n++] = (cfd_quiet_window){a, b};
        if (list_next(&p))
            return -1;
    }
    pol->n_quiet = n;
    return 0;
}

/* "engineer, team_leader, department_leader" -> pol->chain, in order; whether it
 * rises and is long enough is cfd_policy_validate's to say. */
static int parse_chain(const char *v, cfd_policy *pol)
{
    static const char *const names[] = {
        [CFD_RECIPIENT_ENGINEER] = "engineer",
        [CFD_RECIPIENT_TEAM_LEADER] = "team_leader",
        [CFD_RECIPIENT_DEPARTMENT_LEADER] = "department_leader",
        [CFD_RECIPIENT_NOC_DUTY_MANAGER] = "noc_duty_manager",
    };
    const char *p = v;
    int n = 0;

    while (*p == ' ')
        p++;
    while (*p) {
        size_t len = strcspn(p, ", ");
        int r;

        for (r = CFD_RECIPIENT_ENGINEER; r <= CFD_RECIPIENT_NOC_DUTY_MANAGER; r++)
            if (strlen(names[r]) == len && strncasecmp(p, names[r], len) == 0)
                break;
        if (len == 0 || r > CFD_RECIPIENT_NOC_DUTY_MANAGER || n == CFD_CHAIN_MAX)
            return -1;
        pol->chain[n++] = (cfd_recipient)r;
        p += len;
        if (list_next(&p))
            return -1;
    }
    pol->n_chain = n;
    return n > 0 ? 0 : -1;
}

static int parse_int(const char *v, long lo, long hi, long *out)
{
    char *end;

    errno = 0;
    *out = strtol(v, &end, 10);
    if (end == v || *end != '\0' || errno || *out < lo || *out > hi)
        return -1;
    return 0;
}

/* Parses v as k's type into pol. @returns 0, or -1 with the expected form in *want. */
static int pkey_set(const pkey *k, const char *v, cfd_policy *pol, const char **want)
{
    char *field = (char *)pol + k->offset;
    int64_t ms;
    long n, a, b;
    bool flag;
    char tail;

    switch (k->type) {
    case PK_DURATION:
        *want = "a positive duration such as 15min, 4h or 3d";
        if (cfd_parse_duration_ms(v, &ms) != 0)
            return -1;
        *(int64_t *)field = ms;
        return 0;
    case PK_BOOL:
        *want = "true or false";
        if (cfd_parse_bool(v, &flag) != 0)
            return -1;
        *(bool *)field = flag;
        return 0;
    case PK_POINTS:
        *want = "a whole number of points, 0..1000";
        if (parse_int(v, 0, 1000, &n))
            return -1;
        *(int *)field = (int)n;
        return 0;
    case PK_PERCENT:
        *want = "a percentage 0..100";
        if (parse_int(v, 0, 100, &n))
            return -1;
        *(int *)field = (int)n;
        return 0;
    case PK_WARN:
        *want = "two percentages such as 50, 80";
        if (sscanf(v, "%ld , %ld %c", &a, &b, &tail) != 2 || a < 0 || b < 0 || a > 100 ||
            b > 100)
            return -1;
        ((int *)field)[0] = (int)a;
        ((int *)field)[1] = (int)b;
        return 0;
    case PK_OFFSET:
        *want = "minutes east of UTC such as +480 (Asia/Shanghai), -840..840";
        if (parse_int(v[0] == '+' ? v + 1 : v, -840, 840, &n))
            return -1;
        *(int *)field = (int)n;
        return 0;
    case PK_QUIET:
        *want = "HH:MM-HH:MM windows separated by commas, or none";
        return parse_quiet(v, pol);
    case PK_CHAIN:
        *want = "3 or 4 of engineer, team_leader, department_leader, noc_duty_manager, "
                "separated by commas";
        return parse_chain(v, pol);
    case PK_SERIAL:
        *want = "YYYYMMDD, YYMM or none";
        if (strcasecmp(v, "YYYYMMDD") == 0)
            *(cfd_serial_date *)field = CFD_SERIAL_DATE_YYYYMMDD;
        else if (strcasecmp(v, "YYMM") == 0)
            *(cfd_serial_date *)field = CFD_SERIAL_DATE_YYMM;
        else if (strcasecmp(v, "none") == 0)
            *(cfd_serial_date *)field = CFD_SERIAL_DATE_NONE;
        else
            return -1;
        return 0;
    }
    return -1;
}

/* A section is known if some key lives in it. */
static bool section_is_known(void *user, const char *name, size_t len)
{
    (void)user;
    for (size_t i = 0; i < N_KEYS; i++)
        if (strncmp(keys[i].name, name, len) == 0 && keys[i].name[len] == '.')
            return true;
    return false;
}

static int on_value(void *user, const char *section, const char *name, const char *value,
                    char *err, size_t err_size)
{
    char key[128];
    const char *want = "";

    snprintf(key, sizeof(key), "%s.%s", section, name);
    for (size_t i = 0; i < N_KEYS; i++) {
        if (strcmp(keys[i].name, key) != 0)
            continue;
        if (pkey_set(&keys[i], value, user, &want) != 0) {
            snprintf(err, err_size, "%s: '%s' is not %s", key, value, want);
            return -1;
        }
        return 0;
    }
    snprintf(err, err_size, "%s: unknown key", key);
    return -1;
}

cfd_err cfd_policy_file_load(const char *path, cfd_policy *pol, char *errstr,
                             size_t errstr_size)
{
    char why[256];

    cfd_policy_defaults(pol);
    if (cfd_ini_load(path, on_value, section_is_known, pol, errstr, errstr_size) != CFD_OK)
        goto fail;
    if (cfd_policy_validate(pol, why, sizeof(why)) != CFD_OK) {
        snprintf(errstr, errstr_size, "%s: error: %s", path, why);
        goto fail;
    }
    cfd_policy_seal(pol);
    return CFD_OK;
fail:
    cfd_policy_defaults(pol);
    return CFD_ERR_CONFIG;
}
