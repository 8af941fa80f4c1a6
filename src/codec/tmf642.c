/*
 * TMF642 (TM Forum Alarm Management) alarm JSON -> the domain's alarm; see
 * include/confirmd/alarm_codec.h and docs/ALARMS.md for the mapping. Strings are
 * borrowed from the parsed JSON, which the decoded alarm keeps until released.
 */
/* timegm: _DEFAULT_SOURCE, which the build defines */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "codec_int.h"
#include "confirmd/alarm_codec.h"
#include "confirmd/text.h"

/* What one message says, before it becomes a cfd_alarm. */
typedef struct tmf_fields {
    const char *id, *object, *severity, *state, *raised, *cleared, *changed;
    const char *specific_problem, *probable_cause, *alarm_type;
} tmf_fields;

/* The string member name of obj (path names it in errors) into *out: NULL when absent,
 * null or empty. @returns CFD_OK, or CFD_ERR_INVALID_VALUE when it is not a string or
 * not UTF-8. */
static cfd_err tmf_str(json_object *obj, const char *name, const char *path,
                       const char **out, char *errstr, size_t errstr_size)
{
    json_object *v = NULL;
    *out = NULL;
    if (!json_object_object_get_ex(obj, name, &v) || !v)
        return CFD_OK;
    if (!json_object_is_type(v, json_type_string)) {
        snprintf(errstr, errstr_size, "%s: not a string", path);
        return CFD_ERR_INVALID_VALUE;
    }
    const char *s = json_object_get_string(v);
    size_t len = (size_t)json_object_get_string_len(v);
    if (!cfd_utf8_valid(s, len) || strlen(s) != len) {
        snprintf(errstr, errstr_size, "%s: not UTF-8 text", path);
        return CFD_ERR_INVALID_VALUE;
    }
    *out = len ? s : NULL;
    return CFD_OK;
}

/* Reads the members the mapping uses. @returns CFD_OK or the first error. */
static cfd_err tmf_read(json_object *root, tmf_fields *f, char *errstr, size_t errstr_size)
{
    static const struct {
        const char *name;
        size_t offset;
    } members[] = {
        {"id", offsetof(tmf_fields, id)},
        {"perceivedSeverity", offsetof(tmf_fields, severity)},
        {"state", offsetof(tmf_fields, state)},
        {"alarmRaisedTime", offsetof(tmf_fields, raised)},
        {"alarmClearedTime", offsetof(tmf_fields, cleared)},
        {"alarmChangedTime", offsetof(tmf_fields, changed)},
        {"specificProblem", offsetof(tmf_fields, specific_problem)},
        {"probableCause", offsetof(tmf_fields, probable_cause)},
        {"alarmType", offsetof(tmf_fields, alarm_type)},
    };
    cfd_err err = CFD_OK;
    for (size_t i = 0; !err && i < sizeof(members) / sizeof(members[0]); i++)
        err = tmf_str(root, members[i].name, members[i].name,
                      (const char **)((char *)f + members[i].offset), errstr, errstr_size);
    if (err)
        return err;
    json_object *obj = NULL;
    if (json_object_object_get_ex(root, "alarmedObject", &obj) && obj) {
        if (!json_object_is_type(obj, json_type_object)) {
            snprintf(errstr, errstr_size, "alarmedObject: not an object");
            return CFD_ERR_INVALID_VALUE;
        }
        err = tmf_str(obj, "id", "alarmedObject.id", &f->object, errstr, errstr_size);
    }
    return err;
}

/* Reads n digits of s into *v. @returns false when one is not a digit. */
static bool digits(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        *v = *v * 10 + (s[i] - '0');
    }
    return true;
}

/* An ISO 8601 (RFC 3339) date-time with its offset, "2026-03-01T08:15:00.250+08:00"
 * or "...Z", into ms since the epoch. @returns false when s is not one. */
static bool tmf_time(const char *s, int64_t *ms)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, sec, oh = 0, om = 0, frac = 0;
    if (strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
        s[7] != '-' || !digits(s + 8, 2, &d) || s[10] != 'T' || !digits(s + 11, 2, &h) ||
        s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
        (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || sec > 59)
        return false;
    const char *p = s + 19;
    if (*p == '.') {
        int n = 0, v;
        for (p++; *p >= '0' && *p <= '9'; p++, n++)
            if (n < 3 && digits(p, 1, &v))
                frac = frac * 10 + v;
        if (n == 0)
            return false;
        for (; n < 3; n++)
            frac *= 10;
    }
    int sign = 0;
    if (*p == 'Z' && p[1] == '\0')
        sign = 0;
    else if ((*p == '+' || *p == '-') && strlen(p) == 6 && digits(p + 1, 2, &oh) &&
             p[3] == ':' && digits(p + 4, 2, &om) && oh <= 23 && om <= 59)
        sign = *p == '+' ? 1 : -1;
    else
        return false;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = sec};
    int64_t t = (int64_t)timegm(&tm) - sign * (int64_t)(oh * 3600 + om * 60);
    *ms = t * 1000 + frac;
    return *ms > 0;
}

/* Refuses member's value, shown (cut between whole characters: the dead letter's
 * detail stays UTF-8) after what. @returns CFD_ERR_INVALID_VALUE. */
static cfd_err tmf_refuse(const char *member, const char *what, const char *value,
                          char *errstr, size_t errstr_size)
{
    char shown[65];
    cfd_text_copy(shown, sizeof(shown), value);
    snprintf(errstr, errstr_size, "%s: %s \"%s\"", member, what, shown);
    return CFD_ERR_INVALID_VALUE;
}

/* perceivedSeverity -> the domain's severity; "cleared" is a clear. */
static bool tmf_severity(const char *s, cfd_alarm_severity *sev, bool *cleared)
{
    static const struct {
        const char *name;
        cfd_alarm_severity sev;
    } names[] = {
        {"critical", CFD_ALARM_CRITICAL},
        {"major", CFD_ALARM_MAJOR},
        {"minor", CFD_ALARM_MINOR},
        {"warning", CFD_ALARM_WARNING},
        {"indeterminate", CFD_ALARM_UNSPECIFIED},
        {"cleared", CFD_ALARM_UNSPECIFIED},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(s, names[i].name) == 0) {
            *sev = names[i].sev;
            *cleared = strcmp(s, "cleared") == 0;
            return true;
        }
    }
    return false;
}

/* The checked fields as the domain's alarm (strings borrowed from f). */
static cfd_err tmf_map(const tmf_fields *f, cfd_alarm *a, char *errstr, size_t errstr_size)
{
    const char *missing = !f->id         ? "id"
                          : !f->object   ? "alarmedObject.id"
                          : !f->severity ? "perceivedSeverity"
                          : !f->raised   ? "alarmRaisedTime"
                                         : NULL;
    if (missing) {
        snprintf(errstr, errstr_size, "missing field %s", missing);
        return CFD_ERR_MISSING_FIELD;
    }
    bool sev_cleared = false;
    if (!tmf_severity(f->severity, &a->severity, &sev_cleared))
        return tmf_refuse("perceivedSeverity", "unknown value", f->severity, errstr,
                          errstr_size);
    if (f->state && strcmp(f->state, "raised") != 0 && strcmp(f->state, "updated") != 0 &&
        strcmp(f->state, "cleared") != 0)
        return tmf_refuse("state", "unknown value", f->state, errstr, errstr_size);
    static const char *const time_names[] = {"alarmRaisedTime", "alarmClearedTime",
                                             "alarmChangedTime"};
    const char *times[] = {f->raised, f->cleared, f->changed};
    int64_t ms[3] = {0, 0, 0};
    for (size_t i = 0; i < 3; i++) {
        if (times[i] && !tmf_time(times[i], &ms[i]))
            return tmf_refuse(time_names[i],
                              "not an ISO 8601 date-time with offset:", times[i], errstr,
                              errstr_size);
    }
    a->alarm_id = f->id;
    a->network_object = f->object;
    a->cleared =
        sev_cleared || f->cleared || (f->state && strcmp(f->state, "cleared") == 0);
    /* A clear at its clear time (else its last change), an update at its change. */
    if (a->cleared && !f->cleared && !f->changed) {
        snprintf(errstr, errstr_size, "missing field alarmClearedTime (a clear)");
        return CFD_ERR_MISSING_FIELD;
    }
    a->event_time_ms = a->cleared ? (f->cleared ? ms[1] : ms[2])
                       : f->state && strcmp(f->state, "updated") == 0 && f->changed ? ms[2]
                                                                                    : ms[0];
    a->text = f->specific_problem ? f->specific_problem
              : f->probable_cause ? f->probable_cause
                                  : f->alarm_type;
    return cfd_alarm_validate(a, errstr, errstr_size);
}

cfd_err cfd_codec_tmf642_decode(const void *buf, size_t len, cfd_decoded_alarm *out,
                                char *errstr, size_t errstr_size)
{
    json_object *root = NULL;
    tmf_fields f = {0};
    memset(out, 0, sizeof(*out));
    cfd_err err =
        codec_json_object_parse(buf, len, "TMF642 alarm", &root, errstr, errstr_size);
    if (!err)
        err = tmf_read(root, &f, errstr, errstr_size);
    if (!err)
        err = tmf_map(&f, &out->a, errstr, errstr_size);
    if (err) {
        json_object_put(root);
        memset(out, 0, sizeof(*out));
        return err;
    }
    out->json = root; /* the strings of out->a live in it */
    return CFD_OK;
}
