/*
 * confirmctl inventory: network objects from CSV or JSON lines -> the compacted
 * inventory topic, through "confirmctl produce --type Circuit".
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "confirmd/text.h"
#include "confirmctl.h"

static void ctl_inventory_usage(FILE *out)
{
    fprintf(
        out,
        "usage: confirmctl inventory -b BROKERS [-t TOPIC] [-X prop=value] FILE\n"
        "\n"
        "Loads network objects (confirmd.v1.Circuit) into the compacted inventory topic\n"
        "(default confirmd.inventory), keyed by object_id. FILE is JSON lines, or CSV\n"
        "when its name ends in .csv: a header row of Circuit field names, nested ones\n"
        "dotted (object_id,circuit_id,customer.name,customer.tier,customer.city,...);\n"
        "true/false are booleans, enums by name (TIER_AA, IMPORTANCE_CROSS_CITY).\n"
        "Fields may be quoted with \"; an empty cell leaves the field unset.\n"
        "\n"
        "  -h, --help             this text\n");
}

/* Splits one CSV line into at most max cells (quotes with "" escapes); in place.
 * @returns the number of cells, or -1 on an unterminated quote. */
static int ctl_csv_split(char *line, char **cells, int max)
{
    int n = 0;
    char *p = line;
    line[strcspn(line, "\r\n")] = '\0';
    while (n < max) {
        char *out = p, *cell = p;
        if (*p == '"') {
            p++;
            for (;;) {
                if (*p == '\0')
                    return -1;
                if (*p == '"' && p[1] == '"') {
                    *out++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *out++ = *p++;
                }
            }
            while (*p && *p != ',')
                p++;
        } else {
            while (*p && *p != ',')
                *out++ = *p++;
        }
        char sep = *p;
        *out = '\0';
        cells[n++] = cell;
        if (sep != ',')
            break;
        p++;
    }
    return n;
}

/* Sets a dotted field path of obj to the cell's value. */
static void ctl_json_set_path(json_object *obj, const char *path, const char *value)
{
    char buf[256];
    cfd_text_copy(buf, sizeof buf, path);
    char *dot = strchr(buf, '.');
    if (dot) {
        *dot = '\0';
        json_object *child = NULL;
        if (!json_object_object_get_ex(obj, buf, &child)) {
            child = json_object_new_object();
            json_object_object_add(obj, buf, child);
        }
        ctl_json_set_path(child, dot + 1, value);
        return;
    }
    if (strcmp(value, "true") == 0 || strcmp(value, "false") == 0)
        json_object_object_add(obj, buf, json_object_new_boolean(value[0] == 't'));
    else
        json_object_object_add(obj, buf, json_object_new_string(value));
}

/* Converts a CSV file to JSON lines in out. @returns rows written, or -1. */
static int ctl_csv_to_jsonl(const char *path, FILE *out)
{
    FILE *in = fopen(path, "r");
    char line[4096], header[4096];
    char *names[64], *cells[64];
    int n_names, rows = 0, lineno = 1;
    if (!in) {
        fprintf(stderr, "confirmctl: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!fgets(header, sizeof header, in) ||
        (n_names = ctl_csv_split(header, names, 64)) <= 0) {
        fprintf(stderr, "confirmctl: %s:1: no header row\n", path);
        fclose(in);
        return -1;
    }
    while (fgets(line, sizeof line, in)) {
        lineno++;
        if (ctl_skip_line(line))
            continue;
        int n = ctl_csv_split(line, cells, 64);
        if (n != n_names) {
            fprintf(stderr, "confirmctl: %s:%d: %d cells, the header has %d\n", path,
                    lineno, n, n_names);
            fclose(in);
            return -1;
        }
        json_object *obj = json_object_new_object();
        for (int i = 0; i < n; i++)
            if (*cells[i])
                ctl_json_set_path(obj, names[i], cells[i]);
        fprintf(out, "%s\n",
                json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
                                                        JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(obj);
        rows++;
    }
    fclose(in);
    return rows;
}

int ctl_inventory(int argc, char **argv)
{
    const char *brokers = NULL, *topic = "confirmd.inventory";
    char *pargs[64];
    int np = 0, c;
    static const struct option opts[] = {{"brokers", required_argument, NULL, 'b'},
                                         {"topic", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    pargs[np++] = "produce";
    while ((c = getopt_long(argc, argv, "b:t:X:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            brokers = optarg;
            break;
        case 't':
            topic = optarg;
            break;
        case 'X':
            if (np < 56) {
                pargs[np++] = "-X";
                pargs[np++] = optarg;
            }
            break;
        case 'h':
            ctl_inventory_usage(stdout);
            return CTL_EXIT_OK;
        default:
            ctl_inventory_usage(stderr);
            return CTL_EXIT_USAGE;
        }
    }
    if (!brokers || optind + 1 != argc) {
        ctl_inventory_usage(stderr);
        return CTL_EXIT_USAGE;
    }
    const char *file = argv[optind];
    char tmp[] = "/tmp/confirmctl-inventory-XXXXXX";
    bool csv = ctl_ends_with(file, ".csv");
    if (csv) {
        int fd = mkstemp(tmp);
        FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (!out || ctl_csv_to_jsonl(file, out) < 0) {
            if (out)
                fclose(out);
            unlink(tmp);
            return CTL_EXIT_FAIL;
        }
        fclose(out);
        file = tmp;
    }
    pargs[np++] = "-b";
    pargs[np++] = (char *)brokers;
    pargs[np++] = "-t";
    pargs[np++] = (char *)topic;
    pargs[np++] = "--type";
    pargs[np++] = "Circuit";
    pargs[np++] = (char *)file;
    pargs[np] = NULL;
    optind = 1;
    int rc = ctl_produce(np, pargs);
    if (csv)
        unlink(tmp);
    return rc;
}
