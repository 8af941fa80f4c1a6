/*
 * Integration-test harness; see harness.h.
 */
#define _XOPEN_SOURCE 700 /* nftw() */

#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "confirmd/cluster.h"

#define H_DIR_MAX 256 /* the env's temp dir; files inside get H_PATH_MAX */
#define H_PATH_MAX 512
#define H_MAX_WORKERS 256 /* the chaos test starts one per kill */
#define H_MAX_CONSUMERS 32
#define H_MAX_ARGS 128
#define H_MAX_TRACKED 256
#define H_MAX_ENVS 32
#define H_MAX_REDIS_ARGS 16
#define H_MAX_PRODUCER_CONF 8
#define H_MAX_CLUSTER_NODES 12

/* A started child: the leader of its own process group. */
typedef struct h_proc {
    pid_t pid;  /* 0: never started or already reaped */
    int status; /* wait status once reaped */
    bool reaped;
} h_proc;

typedef struct h_worker {
    h_proc proc;
    char log[H_PATH_MAX];
} h_worker;

struct h_consumer {
    h_env *env;
    rd_kafka_t *rk;
};

struct h_env {
    char name[40];
    char dir[H_DIR_MAX];
    char group[128];
    int redis_port;
    h_proc redis;
    /* extra redis-server arguments (h_redis_start_args), kept for restarts */
    char redis_args[H_MAX_REDIS_ARGS][256];
    int n_redis_args;
    char redis_password[256]; /* from --requirepass: h_redis_connect() sends AUTH */
    /* h_cluster_start(): the Redis Cluster's nodes, each in cluster-<i>/ */
    h_proc cluster[H_MAX_CLUSTER_NODES];
    int cluster_port[H_MAX_CLUSTER_NODES];
    int n_cluster;
    char cluster_seeds[H_MAX_CLUSTER_NODES * 24];
    h_proc broker; /* confirmd-broker */
    bool kafka;    /* Apache Kafka (scripts/kafka.sh) runs instead */
    char kafka_dir[H_PATH_MAX];
    char bootstrap[1024];
    /* h_broker_sasl_ssl(): the brokers' key and certificate chain, the CA, the user */
    char sasl_pem[H_PATH_MAX];
    char sasl_ca[H_PATH_MAX];
    char sasl_user[64];
    char sasl_password[128];
    char bootstrap_sasl[1024];
    char broker_sock[H_PATH_MAX];
    char worker_config[H_PATH_MAX];
    h_worker workers[H_MAX_WORKERS];
    int nworkers;
    rd_kafka_t *producer;
    int dr_failures; /* delivery failures of async messages since the last flush */
    h_consumer *consumers[H_MAX_CONSUMERS];
    int nconsumers;
    int reader_seq;
    /* extra producer properties (h_producer_set), applied when it is created */
    char producer_conf[H_MAX_PRODUCER_CONF][2][128];
    int n_producer_conf;
};

/*
 * The only mutable globals: what the atexit() and fatal-signal hooks must reach
 * when a test dies without tearing its environments down.
 */
static pid_t tracked[H_MAX_TRACKED];
static h_env *live_envs[H_MAX_ENVS];
static bool hooks_installed;

static void h_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void h_log(const char *fmt, ...)
{
    va_list ap;

    fputs("harness: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int64_t h_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* --- process tracking ------------------------------------------------------------ */

static void track(pid_t pid)
{
    for (int i = 0; i < H_MAX_TRACKED; i++) {
        if (tracked[i] == 0) {
            tracked[i] = pid;
            return;
        }
    }
    h_log("more than %d live children: pid %ld is not tracked", H_MAX_TRACKED, (long)pid);
}

static void untrack(pid_t pid)
{
    for (int i = 0; i < H_MAX_TRACKED; i++)
        if (tracked[i] == pid)
            tracked[i] = 0;
}

/* Async-signal-safe: SIGKILLs every tracked process group. */
static void kill_all_tracked(void)
{
    for (int i = 0; i < H_MAX_TRACKED; i++)
        if (tracked[i] > 0)
            kill(-tracked[i], SIGKILL);
}

static void on_exit_hook(void)
{
    kill_all_tracked();
    for (int i = 0; i < H_MAX_TRACKED; i++) {
        if (tracked[i] > 0) {
            /* SIGKILLed just above, so this returns promptly. */
            waitpid(tracked[i], NULL, 0);
            tracked[i] = 0;
        }
    }
    for (int i = 0; i < H_MAX_ENVS; i++)
        if (live_envs[i])
            fprintf(stderr, "harness: environment %s not torn down; kept %s\n",
                    live_envs[i]->name, live_envs[i]->dir);
}

static void on_fatal_signal(int sig)
{
    kill_all_tracked();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_hooks(void)
{
    struct sigaction sa;

    if (hooks_installed)
        return;
    hooks_installed = true;
    atexit(on_exit_hook);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/*
 * Starts argv[0] (a path, or a command looked up on PATH, as a benchmark's
 * CFD_BENCH_WRAPPER may name) in a new process group with stdin from /dev/null and
 * stdout+stderr appended to log_path. The child gets SIGKILL if we die.
 * @returns the pid, or -1.
 */
static pid_t spawn(char *const argv[], const char *log_path)
{
    pid_t parent = getpid();
    pid_t pid;
    int logfd, nullfd;

    logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (logfd < 0) {
        h_log("%s: %s", log_path, strerror(errno));
        return -1;
    }
    nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        h_log("fork: %s", strerror(errno));
        close(logfd);
        if (nullfd >= 0)
            close(nullfd);
        return -1;
    }
    if (pid == 0) {
        /* Child: async-signal-safe calls only until exec. */
        sigset_t none;
        static const char msg[] = "harness: exec failed\n";

        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        if (nullfd >= 0)
            dup2(nullfd, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        closefrom(3);
        execvp(argv[0], argv);
        (void)!write(2, msg, sizeof(msg) - 1);
        _exit(127);
    }
    setpgid(pid, pid); /* also here, so a kill(-pid) right away cannot miss */
    close(logfd);
    if (nullfd >= 0)
        close(nullfd);
    track(pid);
    return pid;
}

/* Reaps p if it has exited. @returns true when it is no longer running. */
static bool proc_poll(h_proc *p)
{
    pid_t r;

    if (p->pid <= 0 || p->reaped)
        return true;
    r = waitpid(p->pid, &p->status, WNOHANG);
    if (r == p->pid || (r < 0 && errno == ECHILD)) {
        p->reaped = true;
        kill(-p->pid, SIGKILL); /* anything it left in its group */
        untrack(p->pid);
        return true;
    }
    return false;
}

/* Waits up to timeout_ms for p to exit. @returns true when it has. */
static bool proc_wait(h_proc *p, int timeout_ms)
{
    int64_t deadline = h_now_ms() + timeout_ms;

    while (!proc_poll(p)) {
        if (h_now_ms() >= deadline)
            return false;
        sleep_ms(10);
    }
    return true;
}

/* Sends sig to p, waits up to grace_ms, then SIGKILLs its whole group.
 * @returns 0, or -1 when p was not running. */
static int proc_stop(h_proc *p, int sig, int grace_ms)
{
    if (p->pid <= 0 || proc_poll(p))
        return -1;
    kill(p->pid, sig);
    if (!proc_wait(p, grace_ms)) {
        h_log("pid %ld ignored signal %d for %d ms: SIGKILL", (long)p->pid, sig, grace_ms);
        kill(-p->pid, SIGKILL);
        proc_wait(p, 5000);
    }
    return 0;
}

/* Converts a wait status into an exit code, 128 + signal when killed. */
static int exit_code(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

/* Prints the last lines of a log, to explain a failed start. */
static void log_tail(const char *path)
{
    char buf[2048];
    FILE *f = fopen(path, "r");
    long size;
    size_t n;

    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, size > (long)sizeof(buf) - 1 ? size - (long)sizeof(buf) + 1 : 0, SEEK_SET);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    h_log("--- tail of %s ---\n%s", path, buf);
}

/* --- environment ------------------------------------------------------------------ */

/* @returns true when 127.0.0.1:port (0: any) can be bound; *bound gets the port. */
static bool port_bindable(int port, int *bound)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok = false;

    if (fd < 0)
        return false;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0) {
        *bound = ntohs(sa.sin_port);
        ok = true;
    }
    close(fd);
    return ok;
}

/*
 * Ports the kernel hands out for bind(0) and outgoing connections come from
 * ip_local_port_range; a port picked there could be taken by the mock broker or a
 * client socket before redis binds it (or between a stop and a restart). So pick
 * below that range, at random, and fall back to bind(0).
 */
/* @returns the lowest port of the kernel's ephemeral range. */
static int ephemeral_low(void)
{
    int low = 32768, high;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");

    if (f) {
        if (fscanf(f, "%d %d", &low, &high) != 2)
            low = 32768;
        fclose(f);
    }
    return low;
}

int h_free_port(void)
{
    static unsigned seed;
    int low = ephemeral_low(), port;

    if (!seed)
        seed = (unsigned)getpid() ^ (unsigned)h_now_ms();
    for (int i = 0; low > 11000 && i < 200; i++) {
        int candidate = 10000 + (int)(rand_r(&seed) % (unsigned)(low - 10000));
        if (port_bindable(candidate, &port))
            return port;
    }
    return port_bindable(0, &port) ? port : -1;
}

h_env *h_env_new(const char *name)
{
    static unsigned seq;
    const char *tmp = getenv("TMPDIR");
    h_env *env;
    int slot = -1;

    install_hooks();
    for (int i = 0; i < H_MAX_ENVS && slot < 0; i++)
        if (!live_envs[i])
            slot = i;
    if (slot < 0) {
        h_log("more than %d environments alive", H_MAX_ENVS);
        return NULL;
    }
    if (!(env = calloc(1, sizeof(*env))))
        return NULL;
    snprintf(env->name, sizeof(env->name), "%s", name && *name ? name : "test");
    for (char *p = env->name; *p; p++)
        if (*p == '/' || *p == ' ')
            *p = '_';
    if (!tmp || !*tmp)
        tmp = "/tmp";
    if ((size_t)snprintf(env->dir, sizeof(env->dir), "%s/cfd-%s-XXXXXX", tmp, env->name) >=
        sizeof(env->dir)) {
        h_log("TMPDIR too long: %s", tmp);
        free(env);
        return NULL;
    }
    if (!mkdtemp(env->dir)) {
        h_log("mkdtemp %s: %s", env->dir, strerror(errno));
        free(env);
        return NULL;
    }
    snprintf(env->group, sizeof(env->group), "cfd-it-%s-%ld-%u", env->name, (long)getpid(),
             seq++);
    if ((env->redis_port = h_free_port()) < 0) {
        h_log("no free port");
        rmdir(env->dir);
        free(env);
        return NULL;
    }
    live_envs[slot] = env;
    return env;
}

const char *h_env_dir(const h_env *env)
{
    return env->dir;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* Drops the env's producer: at teardown, or when it points at a broker that is gone. */
static void producer_drop(h_env *env)
{
    if (!env->producer)
        return;
    rd_kafka_purge(env->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(env->producer, 0);
    rd_kafka_destroy(env->producer);
    env->producer = NULL;
}

void h_env_destroy(h_env *env)
{
    int64_t deadline = h_now_ms() + 5000;

    if (!env)
        return;
    /* All workers stop at once: 5 s in all, not 5 s each. */
    for (int i = 0; i < env->nworkers; i++)
        if (!proc_poll(&env->workers[i].proc))
            kill(env->workers[i].proc.pid, SIGTERM);
    for (int i = 0; i < env->nworkers; i++) {
        int64_t left = deadline - h_now_ms();
        proc_stop(&env->workers[i].proc, SIGTERM, left > 0 ? (int)left : 0);
    }
    while (env->nconsumers > 0)
        h_consume_close(env->consumers[env->nconsumers - 1]);
    producer_drop(env);
    h_broker_stop(env);
    h_redis_stop(env);
    for (int i = 0; i < env->n_cluster; i++)
        proc_stop(&env->cluster[i], SIGKILL, 5000);
    for (int i = 0; i < H_MAX_ENVS; i++)
        if (live_envs[i] == env)
            live_envs[i] = NULL;
    if (getenv("CFD_KEEP_TMP"))
        fprintf(stderr, "harness: kept %s\n", env->dir);
    else
        nftw(env->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(env);
}

/* --- redis-server ------------------------------------------------------------------- */

/* Finds program (redis-server, redis-cli) in PATH, then in /usr/bin and /usr/sbin. */
static int find_program(const char *program, char *out, size_t n)
{
    const char *path = getenv("PATH");
    char dirs[4096];
    char *save = NULL;

    snprintf(dirs, sizeof(dirs), "%s:/usr/bin:/usr/sbin", path ? path : "");
    for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(out, n, "%s/%s", d, program);
        if (access(out, X_OK) == 0)
            return 0;
    }
    return -1;
}

/* @returns a connection to the env's redis-server on port (AUTH as the env's), or NULL. */
static redisContext *redis_connect_port(const h_env *env, int port)
{
    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);

    if (!c || c->err) {
        if (c)
            redisFree(c);
        return NULL;
    }
    tv.tv_sec = 5;
    redisSetTimeout(c, tv);
    if (env->redis_password[0]) {
        redisReply *r = redisCommand(c, "AUTH %s", env->redis_password);
        bool ok = r && r->type != REDIS_REPLY_ERROR;
        if (r)
            freeReplyObject(r);
        if (!ok) {
            redisFree(c);
            return NULL;
        }
    }
    return c;
}

redisContext *h_redis_connect(h_env *env)
{
    return redis_connect_port(env, env->redis_port);
}

int h_redis_port(const h_env *env)
{
    return env->redis_port;
}

/* @returns true when the redis on port answers PING with PONG (not LOADING). */
static bool redis_ping(h_env *env, int port)
{
    redisContext *c = redis_connect_port(env, port);
    redisReply *r;
    bool ok;

    if (!c)
        return false;
    r = redisCommand(c, "PING");
    ok = r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
    /* A server whose default user is off answers, but only to say who may ask. */
    ok = ok || (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOAUTH", 6) == 0);
    if (r)
        freeReplyObject(r);
    redisFree(c);
    return ok;
}

int h_redis_start_args(h_env *env, const char *const *extra)
{
    env->n_redis_args = 0;
    env->redis_password[0] = '\0';
    for (const char *const *e = extra; e && *e; e++) {
        if (env->n_redis_args == H_MAX_REDIS_ARGS) {
            h_log("more than %d extra redis arguments", H_MAX_REDIS_ARGS);
            return -1;
        }
        snprintf(env->redis_args[env->n_redis_args++], sizeof(env->redis_args[0]), "%s",
                 *e);
        if (strcmp(*e, "--requirepass") == 0 && e[1])
            snprintf(env->redis_password, sizeof(env->redis_password), "%s", e[1]);
    }
    return h_redis_start(env);
}

/* @returns the pid of the redis-server answering on port, 0 when it does not say (AUTH
 * needed), -1 when nothing answers. */
static long redis_server_pid(h_env *env, int port)
{
    redisContext *c = redis_connect_port(env, port);
    long pid = -1;
    if (!c)
        return -1;
    redisReply *r = redisCommand(c, "INFO server");
    if (r && r->type == REDIS_REPLY_STRING) {
        const char *p = strstr(r->str, "process_id:");
        pid = p ? strtol(p + strlen("process_id:"), NULL, 10) : 0;
    } else if (r && r->type == REDIS_REPLY_ERROR) {
        pid = 0;
    }
    if (r)
        freeReplyObject(r);
    redisFree(c);
    return pid;
}

/* Spawns redis-server on port into *proc, its data in dir and its output in log, with
 * the n_extra arguments extra after the harness's own. @returns 0 when it answers and
 * is ours, 1 when another test's server holds the port (pick another), -1 on failure. */
static int redis_spawn_at(h_env *env, int port, const char *dir, const char *log,
                          h_proc *proc, char *const *extra, int n_extra)
{
    char bin[H_PATH_MAX], port_s[16];
    int64_t deadline;

    if (find_program("redis-server", bin, sizeof(bin)) != 0) {
        h_log("redis-server not found in PATH, /usr/bin or /usr/sbin");
        return -1;
    }
    snprintf(port_s, sizeof(port_s), "%d", port);
    {
        char *argv[16 + H_MAX_REDIS_ARGS] = {
            bin,         "--port",        port_s,     "--bind",
            "127.0.0.1", "--save",        "",         "--appendonly",
            "yes",       "--appendfsync", "everysec", "--dir",
            (char *)dir, "--daemonize",   "no",       NULL};
        for (int i = 0; i < n_extra && i < H_MAX_REDIS_ARGS; i++)
            argv[15 + i] = extra[i];
        argv[15 + (n_extra < H_MAX_REDIS_ARGS ? n_extra : H_MAX_REDIS_ARGS)] = NULL;
        memset(proc, 0, sizeof(*proc));
        if ((proc->pid = spawn(argv, log)) < 0) {
            proc->pid = 0;
            return -1;
        }
    }
    deadline = h_now_ms() + 10000;
    for (;;) {
        if (redis_ping(env, port)) {
            /* Tests run in parallel: the server answering may be another test's, when
             * both picked this port. Only ours will do. */
            long pid = redis_server_pid(env, port);
            if (pid == (long)proc->pid || (pid == 0 && !proc_poll(proc)))
                return 0;
            if (pid > 0) {
                h_log("port %d is another redis-server's (pid %ld)", port, pid);
                proc_stop(proc, SIGKILL, 1000);
                return 1;
            }
        }
        if (proc_poll(proc)) {
            h_log("redis-server exited (code %d)", exit_code(proc->status));
            log_tail(log);
            return redis_ping(env, port) ? 1 : -1;
        }
        if (h_now_ms() >= deadline) {
            h_log("redis on port %d did not answer PING in 10 s", port);
            log_tail(log);
            proc_stop(proc, SIGKILL, 1000);
            return -1;
        }
        sleep_ms(20);
    }
}

/* Spawns the env's redis-server on env->redis_port; see redis_spawn_at(). */
static int redis_spawn(h_env *env)
{
    char log[H_PATH_MAX];
    char *extra[H_MAX_REDIS_ARGS];

    snprintf(log, sizeof(log), "%s/redis.log", env->dir);
    for (int i = 0; i < env->n_redis_args; i++)
        extra[i] = env->redis_args[i];
    return redis_spawn_at(env, env->redis_port, env->dir, log, &env->redis, extra,
                          env->n_redis_args);
}

int h_redis_start(h_env *env)
{
    if (env->redis.pid > 0 && !proc_poll(&env->redis)) {
        h_log("redis already running");
        return -1;
    }
    for (int attempt = 0; attempt < 5; attempt++) {
        int rc = redis_spawn(env);
        if (rc <= 0)
            return rc;
        if ((env->redis_port = h_free_port()) < 0)
            return -1;
    }
    h_log("no free port for redis-server after 5 attempts");
    return -1;
}

int h_redis_stop(h_env *env)
{
    return proc_stop(&env->redis, SIGTERM, 10000);
}

int h_redis_kill(h_env *env)
{
    return proc_stop(&env->redis, SIGKILL, 5000);
}

int h_redis_restart(h_env *env)
{
    if (h_redis_stop(env) != 0)
        h_log("redis was not running; starting it");
    return h_redis_start(env);
}

/* --- confirmd-broker ----------------------------------------------------------------- */

/* Reads a whole small file into buf, stripping a trailing newline. @returns 0/-1. */
static int read_small_file(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "r");
    size_t len;

    if (!f)
        return -1;
    len = fread(buf, 1, n - 1, f);
    fclose(f);
    buf[len] = '\0';
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        buf[--len] = '\0';
    return len > 0 ? 0 : -1;
}

static int mock_start(h_env *env, int nbrokers, const char *topics_spec)
{
    char bin[H_PATH_MAX], bsfile[H_PATH_MAX], log[H_PATH_MAX], nb[16];
    char specs[4096];
    char *argv[H_MAX_ARGS];
    char *save = NULL;
    int argc = 0;
    int64_t deadline;

    if (env->broker.pid > 0 && !proc_poll(&env->broker)) {
        h_log("broker already running");
        return -1;
    }
    snprintf(bin, sizeof(bin), "%s/confirmd-broker", CFD_BIN_DIR);
    snprintf(bsfile, sizeof(bsfile), "%s/bootstrap", env->dir);
    snprintf(log, sizeof(log), "%s/broker.log", env->dir);
    if ((size_t)snprintf(env->broker_sock, sizeof(env->broker_sock), "%s/broker.sock",
                         env->dir) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
        h_log("control socket path too long: %s (set a shorter TMPDIR)", env->broker_sock);
        env->broker_sock[0] = '\0';
        return -1;
    }
    snprintf(nb, sizeof(nb), "%d", nbrokers);
    unlink(bsfile);
    env->bootstrap[0] = '\0';
    producer_drop(env);

    argv[argc++] = bin;
    argv[argc++] = "--brokers";
    argv[argc++] = nb;
    argv[argc++] = "--control";
    argv[argc++] = env->broker_sock;
    argv[argc++] = "--bootstrap-file";
    argv[argc++] = bsfile;
    snprintf(specs, sizeof(specs), "%s", topics_spec ? topics_spec : "");
    for (char *t = strtok_r(specs, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        if (argc + 3 >= H_MAX_ARGS) {
            h_log("too many topics");
            return -1;
        }
        argv[argc++] = "--topic";
        argv[argc++] = t;
    }
    argv[argc] = NULL;

    memset(&env->broker, 0, sizeof(env->broker));
    if ((env->broker.pid = spawn(argv, log)) < 0) {
        env->broker.pid = 0;
        return -1;
    }
    deadline = h_now_ms() + 10000;
    while (read_small_file(bsfile, env->bootstrap, sizeof(env->bootstrap)) != 0) {
        if (proc_poll(&env->broker)) {
            h_log("confirmd-broker exited (code %d)", exit_code(env->broker.status));
            log_tail(log);
            return -1;
        }
        if (h_now_ms() >= deadline) {
            h_log("confirmd-broker wrote no bootstrap file in 10 s");
            log_tail(log);
            proc_stop(&env->broker, SIGKILL, 1000);
            return -1;
        }
        sleep_ms(20);
    }
    return 0;
}

/* Runs argv (argv[0] an absolute path) to completion, output appended to log_path.
 * @returns its exit code, or -1 when it could not start or ran past timeout_ms. */
static int run_tool(char *const argv[], const char *log_path, int timeout_ms)
{
    h_proc p = {0};

    if ((p.pid = spawn(argv, log_path)) < 0)
        return -1;
    if (!proc_wait(&p, timeout_ms)) {
        h_log("%s ran longer than %d ms: killed", argv[0], timeout_ms);
        proc_stop(&p, SIGKILL, 5000);
        return -1;
    }
    return exit_code(p.status);
}

/* Runs scripts/kafka.sh COMMAND on the env's cluster directory, then the
 * NULL-terminated args. @returns 0 or -1 (the script's log tail on stderr). */
static int kafka_sh(h_env *env, const char *command, const char *const *args)
{
    char script[H_PATH_MAX], log[H_PATH_MAX];
    char *argv[H_MAX_ARGS];
    int argc = 0, rc;

    snprintf(script, sizeof(script), "%s/scripts/kafka.sh", CFD_SOURCE_DIR);
    snprintf(log, sizeof(log), "%s/kafka.sh.log", env->dir);
    argv[argc++] = script;
    argv[argc++] = (char *)command;
    argv[argc++] = env->kafka_dir;
    for (; args && *args && argc < H_MAX_ARGS - 1; args++)
        argv[argc++] = (char *)*args;
    argv[argc] = NULL;
    if ((rc = run_tool(argv, log, 180000)) != 0) {
        h_log("scripts/kafka.sh %s exited with %d", command, rc);
        log_tail(log);
        return -1;
    }
    return 0;
}

/* @returns the partition count topics_spec gives confirmd.events, 8 without one. */
static int spec_event_partitions(const char *topics_spec)
{
    const char *p = topics_spec ? strstr(topics_spec, "confirmd.events:") : NULL;
    int n = p ? atoi(p + strlen("confirmd.events:")) : 0;
    return n > 0 ? n : 8;
}

/* Starts an Apache Kafka cluster of nbrokers nodes in the env's directory, dying
 * with this process, and creates the service's topics the way an operator does:
 * `confirmctl topics create`, all with confirmd.events' partition count (and, on 3
 * nodes or more, replication factor 3 and min.insync.replicas 2). */
static int kafka_start(h_env *env, int nbrokers, const char *topics_spec)
{
    char bin[H_PATH_MAX], log[H_PATH_MAX], bsfile[H_PATH_MAX], nb[16], watch[32], np[16];
    const char *args[] = {"--brokers", nb,   "--watch", watch, NULL,
                          NULL,        NULL, NULL,      NULL,  NULL};
    /* On 3 nodes as in production: every write on 2 replicas at least. */
    char *argv[] = {
        bin,  "topics", "create", "-b", env->bootstrap, "--partitions",
        np,   NULL, /* --set, when the spec names the TMF642 alarms topic */
        NULL, NULL, /* --replication-factor 3 --min-insync-replicas 2 on 3 nodes */
        NULL, NULL,     NULL,     NULL};
    int64_t t0 = h_now_ms();
    int rc;

    snprintf(env->kafka_dir, sizeof(env->kafka_dir), "%s/kafka", env->dir);
    snprintf(nb, sizeof(nb), "%d", nbrokers);
    snprintf(watch, sizeof(watch), "%ld", (long)getpid());
    snprintf(np, sizeof(np), "%d", spec_event_partitions(topics_spec));
    /* A topic off by default that the test's spec names: created as an operator who
     * turned it on would (worker.tmf642_alarms_topic). */
    int a = 7;
    if (topics_spec && strstr(topics_spec, "confirmd.tmf642-alarms:")) {
        argv[a++] = "--set";
        argv[a++] = "worker.tmf642_alarms_topic=confirmd.tmf642-alarms";
    }
    if (nbrokers >= 3) {
        argv[a++] = "--replication-factor";
        argv[a++] = "3";
        argv[a++] = "--min-insync-replicas";
        argv[a++] = "2";
    }
    producer_drop(env);
    if (env->sasl_pem[0]) {
        args[4] = "--sasl-ssl";
        args[5] = env->sasl_pem;
        args[6] = "--sasl-user";
        args[7] = env->sasl_user;
        args[8] = env->sasl_password;
    }
    env->kafka = true; /* from here on, h_broker_stop() stops whatever did start */
    if (kafka_sh(env, "start", args) != 0)
        return -1;
    snprintf(bsfile, sizeof(bsfile), "%s/bootstrap-sasl", env->kafka_dir);
    env->bootstrap_sasl[0] = '\0';
    if (env->sasl_pem[0] &&
        read_small_file(bsfile, env->bootstrap_sasl, sizeof(env->bootstrap_sasl)) != 0) {
        h_log("no SASL_SSL bootstrap servers in %s", bsfile);
        return -1;
    }
    snprintf(bsfile, sizeof(bsfile), "%s/bootstrap", env->kafka_dir);
    if (read_small_file(bsfile, env->bootstrap, sizeof(env->bootstrap)) != 0) {
        h_log("no bootstrap servers in %s", bsfile);
        return -1;
    }
    fprintf(stderr, "harness: Apache Kafka, %d node(s) at %s, up in %.1f s\n", nbrokers,
            env->bootstrap, (double)(h_now_ms() - t0) / 1000.0);
    snprintf(bin, sizeof(bin), "%s/confirmctl", CFD_BIN_DIR);
    snprintf(log, sizeof(log), "%s/topics.log", env->dir);
    if ((rc = run_tool(argv, log, 60000)) != 0) {
        h_log("confirmctl topics create exited with %d", rc);
        log_tail(log);
        env->bootstrap[0] = '\0';
        return -1;
    }
    return 0;
}

bool h_broker_is_kafka(void)
{
    const char *kind = getenv("CFD_TEST_BROKER");
    return kind && strcmp(kind, "kafka") == 0;
}

int h_broker_start_n(h_env *env, int nbrokers, const char *topics_spec)
{
    if (h_bootstrap(env)) {
        h_log("broker already running");
        return -1;
    }
    return h_broker_is_kafka() ? kafka_start(env, nbrokers, topics_spec)
                               : mock_start(env, nbrokers, topics_spec);
}

int h_broker_start(h_env *env, const char *topics_spec)
{
    return h_broker_start_n(env, 1, topics_spec);
}

const char *h_bootstrap(const h_env *env)
{
    return env->bootstrap[0] ? env->bootstrap : NULL;
}

/* openssl through the shell, in the env's tls/ directory: $1 and $2 are arg1, arg2. */
static int tls_sh(h_env *env, const char *script, const char *arg1, const char *arg2)
{
    char dir[H_PATH_MAX], log[H_PATH_MAX];
    char *argv[] = {"/bin/sh", "-c",         (char *)script, "tls",
                    dir,       (char *)arg1, (char *)arg2,   NULL};
    int rc;

    snprintf(dir, sizeof(dir), "%s/tls", env->dir);
    snprintf(log, sizeof(log), "%s/openssl.log", dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        h_log("%s: %s", dir, strerror(errno));
        return -1;
    }
    if ((rc = run_tool(argv, log, 60000)) != 0) {
        h_log("openssl exited with %d", rc);
        log_tail(log);
        return -1;
    }
    return 0;
}

int h_tls_ca(h_env *env, const char *name, char *path, size_t n)
{
    static const char script[] =
        "set -e; cd \"$1\"; openssl req -x509 -newkey rsa:2048 -nodes -days 2 "
        "-subj \"/CN=confirmd test CA $2\" -keyout \"$2.key\" -out \"$2.pem\"";

    if (tls_sh(env, script, name, "") != 0)
        return -1;
    snprintf(path, n, "%s/tls/%s.pem", env->dir, name);
    return 0;
}

int h_broker_sasl_ssl(h_env *env, const char *user, const char *password)
{
    /* A key and a certificate for 127.0.0.1 and localhost signed by the CA, then one
     * PEM file with the key (PKCS#8) and the chain, as Kafka's PEM keystore wants. */
    static const char script[] =
        "set -e; cd \"$1\"; openssl req -newkey rsa:2048 -nodes -subj /CN=localhost "
        "-keyout broker.key -out broker.csr; "
        "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' >broker.ext; "
        "openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
        "-extfile broker.ext -out broker.crt; cat broker.key broker.crt ca.pem >broker.pem";

    if (!h_broker_is_kafka()) {
        h_log("h_broker_sasl_ssl: the embedded broker has no TLS (CFD_TEST_BROKER=kafka)");
        return -1;
    }
    if (h_tls_ca(env, "ca", env->sasl_ca, sizeof(env->sasl_ca)) != 0 ||
        tls_sh(env, script, "", "") != 0)
        return -1;
    snprintf(env->sasl_pem, sizeof(env->sasl_pem), "%s/tls/broker.pem", env->dir);
    snprintf(env->sasl_user, sizeof(env->sasl_user), "%s", user);
    snprintf(env->sasl_password, sizeof(env->sasl_password), "%s", password);
    return 0;
}

const char *h_bootstrap_sasl(const h_env *env)
{
    return env->bootstrap[0] && env->bootstrap_sasl[0] ? env->bootstrap_sasl : NULL;
}

const char *h_tls_ca_path(const h_env *env)
{
    return env->sasl_ca[0] ? env->sasl_ca : NULL;
}

int h_broker_ctl(h_env *env, const char *cmd, char *reply, size_t n)
{
    char line[1024], buf[4096];
    struct sockaddr_un sa;
    size_t len = 0, cmdlen;
    int64_t deadline = h_now_ms() + 10000;
    int fd, rc = -1;

    if (reply && n)
        reply[0] = '\0';
    if (env->kafka) {
        h_log("control command \"%s\": Apache Kafka has no control socket", cmd);
        return -1;
    }
    cmdlen = (size_t)snprintf(line, sizeof(line), "%s\n", cmd);
    if (cmdlen >= sizeof(line) || !env->broker_sock[0] ||
        strlen(env->broker_sock) >= sizeof(sa.sun_path))
        return -1;
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, env->broker_sock, strlen(env->broker_sock) + 1); /* checked */
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        h_log("control socket %s: %s", env->broker_sock, strerror(errno));
        goto out;
    }
    if (send(fd, line, cmdlen, MSG_NOSIGNAL) != (ssize_t)cmdlen)
        goto out;
    while (len < sizeof(buf) - 1 && !memchr(buf, '\n', len)) {
        struct pollfd pfd = {fd, POLLIN, 0};
        int64_t left = deadline - h_now_ms();
        ssize_t r;

        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0) {
            h_log("control command \"%s\": no answer in 10 s", cmd);
            goto out;
        }
        if ((r = recv(fd, buf + len, sizeof(buf) - 1 - len, 0)) <= 0)
            goto out;
        len += (size_t)r;
    }
    buf[len] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    if (reply && n)
        snprintf(reply, n, "%s", buf);
    rc = strncmp(buf, "OK", 2) == 0 ? 0 : -1;
out:
    close(fd);
    return rc;
}

pid_t h_broker_pid(h_env *env, int id)
{
    if (!env->kafka)
        return env->broker.pid > 0 && !env->broker.reaped ? env->broker.pid : -1;
    char path[H_PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/node-%d/pid", env->kafka_dir, id);
    FILE *f = fopen(path, "r");
    long pid = -1;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = -1;
        fclose(f);
    }
    return pid > 0 && kill((pid_t)pid, 0) == 0 ? (pid_t)pid : -1;
}

int h_broker_stop(h_env *env)
{
    if (env->kafka) {
        producer_drop(env);
        env->kafka = false;
        env->bootstrap[0] = '\0';
        return kafka_sh(env, "stop", NULL);
    }
    if (env->broker.pid <= 0 || proc_poll(&env->broker))
        return -1;
    producer_drop(env); /* or it logs the broker's departure at length */
    h_broker_ctl(env, "shutdown", NULL, 0);
    if (!proc_wait(&env->broker, 5000))
        proc_stop(&env->broker, SIGKILL, 5000);
    env->bootstrap[0] = '\0';
    return 0;
}

int h_broker_node_down(h_env *env, int id, bool hard)
{
    char cmd[64], sid[16];
    const char *args[] = {sid, hard ? "--kill" : NULL, NULL};

    if (env->kafka) {
        snprintf(sid, sizeof(sid), "%d", id);
        return kafka_sh(env, "stop-node", args);
    }
    snprintf(cmd, sizeof(cmd), "broker-down %d", id);
    return h_broker_ctl(env, cmd, NULL, 0);
}

int h_broker_node_up(h_env *env, int id)
{
    char cmd[64], sid[16];
    const char *args[] = {sid, NULL};

    if (env->kafka) {
        snprintf(sid, sizeof(sid), "%d", id);
        return kafka_sh(env, "start-node", args);
    }
    snprintf(cmd, sizeof(cmd), "broker-up %d", id);
    return h_broker_ctl(env, cmd, NULL, 0);
}

/* --- Redis Cluster ------------------------------------------------------------------- */

/* @returns true when the node on port says cluster_state:ok and, when it is a replica,
 * that its link to its master is up (the first full sync done). */
static bool cluster_node_ok(h_env *env, int port)
{
    redisContext *c = redis_connect_port(env, port);
    redisReply *r, *repl;
    bool ok;

    if (!c)
        return false;
    r = redisCommand(c, "CLUSTER INFO");
    repl = redisCommand(c, "INFO replication");
    ok = r && r->type == REDIS_REPLY_STRING && strstr(r->str, "cluster_state:ok") && repl &&
         repl->type == REDIS_REPLY_STRING &&
         (strstr(repl->str, "role:master") || strstr(repl->str, "master_link_status:up"));
    if (r)
        freeReplyObject(r);
    if (repl)
        freeReplyObject(repl);
    redisFree(c);
    return ok;
}

/* @returns a free port for a cluster node whose cluster bus port (port + 10000) is free
 * too, both below the ephemeral range (see h_free_port()), or -1. */
static int cluster_free_port(void)
{
    for (int i = 0; i < 200; i++) {
        int port = h_free_port(), bus;
        if (port > 0 && port + 10000 < ephemeral_low() && port_bindable(port + 10000, &bus))
            return port;
    }
    return -1;
}

/* A cluster node's options; a replica's first sync starts at once, not after the
 * default 5 s delay. */
static char *cluster_extra[] = {
    "--cluster-enabled",     "yes",        "--cluster-node-timeout",     "1000",
    "--cluster-config-file", "nodes.conf", "--repl-diskless-sync-delay", "0"};

int h_cluster_start(h_env *env, int masters, int replicas)
{
    char cli[H_PATH_MAX], log[H_PATH_MAX], reps[16];
    char addrs[H_MAX_CLUSTER_NODES][24];
    char *argv[H_MAX_CLUSTER_NODES + 16];
    char **extra = cluster_extra;
    int n = masters * (1 + replicas), argc = 0;

    if (env->n_cluster > 0 || masters < 3 || replicas < 0 || n > H_MAX_CLUSTER_NODES) {
        h_log("h_cluster_start: %d masters with %d replicas each: not possible here",
              masters, replicas);
        return -1;
    }
    if (find_program("redis-cli", cli, sizeof(cli)) != 0) {
        h_log("redis-cli not found in PATH, /usr/bin or /usr/sbin");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        char dir[H_PATH_MAX];
        int rc = 1;

        snprintf(dir, sizeof(dir), "%s/cluster-%d", env->dir, i);
        snprintf(log, sizeof(log), "%s/redis.log", dir);
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
            h_log("mkdir %s: %s", dir, strerror(errno));
            return -1;
        }
        /* Parallel tests may take the port or its bus port first: try another. */
        for (int attempt = 0; attempt < 5 && rc != 0; attempt++) {
            char conf[H_PATH_MAX];
            snprintf(conf, sizeof(conf), "%s/nodes.conf", dir);
            unlink(conf); /* a failed attempt's identity */
            if ((env->cluster_port[i] = cluster_free_port()) < 0)
                return -1;
            rc = redis_spawn_at(env, env->cluster_port[i], dir, log, &env->cluster[i],
                                extra, (int)(sizeof(cluster_extra) / sizeof(extra[0])));
        }
        if (rc != 0)
            return -1;
        env->n_cluster = i + 1;
        snprintf(addrs[i], sizeof(addrs[i]), "127.0.0.1:%d", env->cluster_port[i]);
    }
    snprintf(reps, sizeof(reps), "%d", replicas);
    argv[argc++] = cli;
    argv[argc++] = "--cluster";
    argv[argc++] = "create";
    for (int i = 0; i < n; i++)
        argv[argc++] = addrs[i];
    argv[argc++] = "--cluster-replicas";
    argv[argc++] = reps;
    argv[argc++] = "--cluster-yes";
    argv[argc] = NULL;
    snprintf(log, sizeof(log), "%s/cluster-create.log", env->dir);
    if (run_tool(argv, log, 60000) != 0) {
        h_log("redis-cli --cluster create failed");
        log_tail(log);
        return -1;
    }
    env->cluster_seeds[0] = '\0';
    for (int i = 0; i < n; i++)
        snprintf(env->cluster_seeds + strlen(env->cluster_seeds),
                 sizeof(env->cluster_seeds) - strlen(env->cluster_seeds), "%s%s",
                 i ? "," : "", addrs[i]);
    return h_cluster_wait_ok(env, 30000);
}

int h_cluster_wait_ok(h_env *env, int timeout_ms)
{
    int64_t deadline = h_now_ms() + timeout_ms;

    for (;;) {
        bool ok = env->n_cluster > 0;
        for (int i = 0; i < env->n_cluster && ok; i++)
            ok = proc_poll(&env->cluster[i]) || cluster_node_ok(env, env->cluster_port[i]);
        if (ok)
            return 0;
        if (h_now_ms() >= deadline) {
            h_log("the Redis Cluster was not ok (state, replicas' links) in %d ms",
                  timeout_ms);
            return -1;
        }
        sleep_ms(50);
    }
}

int h_cluster_size(const h_env *env)
{
    return env->n_cluster;
}

int h_cluster_port(const h_env *env, int idx)
{
    return idx >= 0 && idx < env->n_cluster ? env->cluster_port[idx] : -1;
}

int h_cluster_index(const h_env *env, int port)
{
    for (int i = 0; i < env->n_cluster; i++)
        if (env->cluster_port[i] == port)
            return i;
    return -1;
}

const char *h_cluster_seeds(const h_env *env)
{
    return env->n_cluster > 0 ? env->cluster_seeds : NULL;
}

redisContext *h_cluster_connect(h_env *env, int idx)
{
    return idx >= 0 && idx < env->n_cluster
               ? redis_connect_port(env, env->cluster_port[idx])
               : NULL;
}

int h_cluster_kill(h_env *env, int idx)
{
    return idx >= 0 && idx < env->n_cluster ? proc_stop(&env->cluster[idx], SIGKILL, 5000)
                                            : -1;
}

int h_cluster_restart(h_env *env, int idx)
{
    char dir[H_PATH_MAX], log[H_PATH_MAX];
    if (idx < 0 || idx >= env->n_cluster || h_cluster_alive(env, idx))
        return -1;
    snprintf(dir, sizeof(dir), "%s/cluster-%d", env->dir, idx);
    snprintf(log, sizeof(log), "%s/redis.log", dir);
    return redis_spawn_at(env, env->cluster_port[idx], dir, log, &env->cluster[idx],
                          cluster_extra,
                          (int)(sizeof(cluster_extra) / sizeof(cluster_extra[0])));
}

bool h_cluster_alive(h_env *env, int idx)
{
    return idx >= 0 && idx < env->n_cluster && !proc_poll(&env->cluster[idx]);
}

bool h_redis_is_cluster(void)
{
    const char *kind = getenv("CFD_TEST_REDIS");
    return kind && strcmp(kind, "cluster") == 0;
}

redisReply *h_cluster_vcmd(h_env *env, int idx, const char *fmt, va_list ap)
{
    redisContext *c = h_cluster_connect(env, idx);
    redisReply *r = NULL;

    if (!c) {
        h_log("cluster node %d unreachable", idx);
        return NULL;
    }
    r = redisvCommand(c, fmt, ap);
    if (!r)
        h_log("cluster node %d: %s", idx, c->errstr);
    redisFree(c);
    return r;
}

redisReply *h_cluster_cmd(h_env *env, int idx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = h_cluster_vcmd(env, idx, fmt, ap);
    va_end(ap);
    return r;
}

/* Fills ports[] with the master port of each slot range a live node's CLUSTER SLOTS
 * names, and slot's master in *owner (-1 when no range holds it).
 * @returns how many distinct masters, -1 when no node answered. */
static int cluster_masters(h_env *env, int slot, int *owner, int *ports, int max)
{
    for (int i = 0; i < env->n_cluster; i++) {
        if (!h_cluster_alive(env, i))
            continue;
        redisReply *r = h_cluster_cmd(env, i, "CLUSTER SLOTS");
        int n = 0;
        if (!r || r->type != REDIS_REPLY_ARRAY) {
            if (r)
                freeReplyObject(r);
            continue;
        }
        *owner = -1;
        for (size_t k = 0; k < r->elements; k++) {
            const redisReply *range = r->element[k];
            if (range->type != REDIS_REPLY_ARRAY || range->elements < 3 ||
                range->element[2]->elements < 2)
                continue;
            int port = (int)range->element[2]->element[1]->integer;
            if (slot >= range->element[0]->integer && slot <= range->element[1]->integer)
                *owner = h_cluster_index(env, port);
            bool seen = false;
            for (int m = 0; m < n && !seen; m++)
                seen = ports[m] == port;
            if (!seen && n < max)
                ports[n++] = port;
        }
        freeReplyObject(r);
        return n;
    }
    h_log("no cluster node answered CLUSTER SLOTS");
    return -1;
}

int h_cluster_slot_master(h_env *env, int slot)
{
    int owner = -1, ports[H_MAX_CLUSTER_NODES];
    return cluster_masters(env, slot, &owner, ports, H_MAX_CLUSTER_NODES) < 0 ? -1 : owner;
}

redisContext *h_redis_connect_key(h_env *env, const char *key)
{
    if (env->n_cluster == 0)
        return h_redis_connect(env);
    int owner = h_cluster_slot_master(env, cfd_cluster_key_slot(key, strlen(key)));
    return owner >= 0 ? h_cluster_connect(env, owner) : NULL;
}

int h_redis_masters(h_env *env, redisContext **out, int max)
{
    int owner, ports[H_MAX_CLUSTER_NODES], n;

    if (env->n_cluster == 0) {
        out[0] = max > 0 ? h_redis_connect(env) : NULL;
        return out[0] ? 1 : -1;
    }
    if ((n = cluster_masters(env, 0, &owner, ports, H_MAX_CLUSTER_NODES)) < 0 || n > max)
        return -1;
    for (int i = 0; i < n; i++) {
        if (!(out[i] = h_cluster_connect(env, h_cluster_index(env, ports[i])))) {
            while (i-- > 0)
                redisFree(out[i]);
            return -1;
        }
    }
    return n;
}

int h_cluster_node_id(h_env *env, int idx, char *out, size_t n)
{
    redisReply *r = h_cluster_cmd(env, idx, "CLUSTER MYID");
    int rc = r && r->type == REDIS_REPLY_STRING ? 0 : -1;
    if (rc == 0)
        snprintf(out, n, "%s", r->str);
    if (r)
        freeReplyObject(r);
    return rc;
}

/* Frees r, node idx's answer to what. @returns 0 when it is a status reply, else -1
 * (logged). */
static int node_status(int idx, const char *what, redisReply *r)
{
    int rc = r && r->type == REDIS_REPLY_STATUS ? 0 : -1;
    if (rc)
        h_log("cluster node %d: %s: %s", idx, what, r && r->str ? r->str : "no answer");
    if (r)
        freeReplyObject(r);
    return rc;
}

int h_cluster_migrate_begin(h_env *env, int slot, int src, int dst)
{
    char src_id[64], dst_id[64];
    if (h_cluster_node_id(env, src, src_id, sizeof(src_id)) ||
        h_cluster_node_id(env, dst, dst_id, sizeof(dst_id)))
        return -1;
    if (node_status(
            dst, "SETSLOT IMPORTING",
            h_cluster_cmd(env, dst, "CLUSTER SETSLOT %d IMPORTING %s", slot, src_id)))
        return -1;
    return node_status(
        src, "SETSLOT MIGRATING",
        h_cluster_cmd(env, src, "CLUSTER SETSLOT %d MIGRATING %s", slot, dst_id));
}

int h_cluster_migrate_keys(h_env *env, int slot, int src, int dst, bool half)
{
    redisReply *keys = h_cluster_cmd(env, src, "CLUSTER GETKEYSINSLOT %d 1000", slot);
    int moved = 0;
    if (!keys || keys->type != REDIS_REPLY_ARRAY) {
        if (keys)
            freeReplyObject(keys);
        return -1;
    }
    size_t n = half ? keys->elements / 2 : keys->elements;
    for (size_t i = 0; i < n && moved >= 0; i++) {
        const char *key = keys->element[i]->str;
        if (node_status(src, "MIGRATE",
                        h_cluster_cmd(env, src, "MIGRATE 127.0.0.1 %d %s 0 5000",
                                      h_cluster_port(env, dst), key)))
            moved = -1;
        else
            moved++;
    }
    freeReplyObject(keys);
    return moved;
}

int h_cluster_migrate_end(h_env *env, int slot, int dst)
{
    char dst_id[64];
    if (h_cluster_node_id(env, dst, dst_id, sizeof(dst_id)))
        return -1;
    /* A replica refuses SETSLOT; its master tells it. */
    for (int i = 0; i < env->n_cluster; i++)
        if (h_cluster_alive(env, i)) {
            redisReply *r =
                h_cluster_cmd(env, i, "CLUSTER SETSLOT %d NODE %s", slot, dst_id);
            if (r)
                freeReplyObject(r);
        }
    return 0;
}

int h_cluster_migrate(h_env *env, int slot, int dst, h_tick_fn tick, void *arg)
{
    int src = h_cluster_slot_master(env, slot), moved, more = 0;

    if (src < 0 || src == dst || h_cluster_migrate_begin(env, slot, src, dst) ||
        (moved = h_cluster_migrate_keys(env, slot, src, dst, true)) < 0)
        return -1;
    for (int round = 0; round < 50 && more >= 0; round++) {
        sleep_ms(300);
        if (tick)
            tick(arg);
        redisReply *left = h_cluster_cmd(env, src, "CLUSTER COUNTKEYSINSLOT %d", slot);
        long long n = left && left->type == REDIS_REPLY_INTEGER ? left->integer : -1;
        if (left)
            freeReplyObject(left);
        if (n == 0)
            break;
        if ((more = h_cluster_migrate_keys(env, slot, src, dst, false)) > 0)
            moved += more;
    }
    if (more < 0 || h_cluster_migrate_end(env, slot, dst))
        return -1;
    return moved;
}

int h_cluster_wait_replica(h_env *env, int idx, int timeout_ms, h_tick_fn tick, void *arg)
{
    int64_t deadline = h_now_ms() + timeout_ms;
    for (;;) {
        if (tick)
            tick(arg);
        redisReply *r = h_cluster_cmd(env, idx, "INFO replication");
        bool replica = r && r->type == REDIS_REPLY_STRING && strstr(r->str, "role:slave") &&
                       strstr(r->str, "master_link_status:up");
        if (r)
            freeReplyObject(r);
        if (replica)
            return 0;
        if (h_now_ms() >= deadline) {
            h_log("cluster node %d not a replica in sync after %d ms", idx, timeout_ms);
            return -1;
        }
        sleep_ms(200);
    }
}

/* --- confirmd workers ---------------------------------------------------------------- */

void h_env_set_worker_config(h_env *env, const char *path)
{
    snprintf(env->worker_config, sizeof(env->worker_config), "%s", path ? path : "");
}

const char *h_worker_group(const h_env *env)
{
    return env->group;
}

/* An argv under construction; "--set" values are formatted into owned copies. */
typedef struct argv_builder {
    char *argv[H_MAX_ARGS];
    int argc;
    char *owned[H_MAX_ARGS];
    int nowned;
    bool failed;
} argv_builder;

static void argv_add(argv_builder *b, char *arg)
{
    if (b->argc + 2 >= H_MAX_ARGS) {
        b->failed = true;
        return;
    }
    b->argv[b->argc++] = arg;
    b->argv[b->argc] = NULL;
}

/* Appends "--set" and the formatted "key=value". */
static void argv_set(argv_builder *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void argv_set(argv_builder *b, const char *fmt, ...)
{
    va_list ap;
    char *kv;
    int r;

    va_start(ap, fmt);
    r = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (r < 0 || !(kv = malloc((size_t)r + 1))) {
        b->failed = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(kv, (size_t)r + 1, fmt, ap);
    va_end(ap);
    b->owned[b->nowned++] = kv;
    argv_add(b, "--set");
    argv_add(b, kv);
}

static void argv_free(argv_builder *b)
{
    for (int i = 0; i < b->nowned; i++)
        free(b->owned[i]);
}

pid_t h_worker_start(h_env *env, const char *const *extra_set_args)
{
    return h_worker_start_cmd(env, NULL, NULL, extra_set_args);
}

pid_t h_worker_start_cmd(h_env *env, const char *const *wrapper, const char *program,
                         const char *const *extra_set_args)
{
    char bin[H_PATH_MAX];
    argv_builder b = {.argc = 0};
    const char *scope;
    h_worker *w;
    pid_t pid = -1;

    if (env->nworkers == H_MAX_WORKERS) {
        h_log("more than %d workers", H_MAX_WORKERS);
        return -1;
    }
    if (!h_bootstrap(env)) {
        h_log("h_worker_start: start the broker first");
        return -1;
    }
    if (program)
        snprintf(bin, sizeof(bin), "%s", program);
    else
        snprintf(bin, sizeof(bin), "%s/confirmd", CFD_BIN_DIR);
    for (const char *const *pre = wrapper; pre && *pre; pre++)
        argv_add(&b, (char *)*pre);
    argv_add(&b, bin);
    if (env->worker_config[0]) {
        argv_add(&b, "-c");
        argv_add(&b, env->worker_config);
    }
    /* A config file may hold [kafka.consumer] values, which win over kafka.X:
     * then the group settings must be scoped too to stay the env's own. */
    scope = env->worker_config[0] ? "kafka.consumer." : "kafka.";
    argv_set(&b, "kafka.bootstrap.servers=%s", env->bootstrap);
    argv_set(&b, "redis.host=127.0.0.1");
    argv_set(&b, "redis.port=%d", env->redis_port);
    if (env->n_cluster > 0) { /* the env's Redis Cluster: node 0 the seed, all more */
        argv_set(&b, "redis.cluster=on");
        argv_set(&b, "redis.port=%d", env->cluster_port[0]);
        argv_set(&b, "redis.cluster_seeds=%s", env->cluster_seeds);
    }
    argv_set(&b, "%sgroup.id=%s", scope, env->group);
    argv_set(&b, "%ssession.timeout.ms=6000", scope);
    argv_set(&b, "%sheartbeat.interval.ms=500", scope);
    for (const char *const *e = extra_set_args; e && *e; e++)
        argv_set(&b, "%s", *e);

    w = &env->workers[env->nworkers];
    snprintf(w->log, sizeof(w->log), "%s/worker-%d.log", env->dir, env->nworkers);
    if (b.failed) {
        h_log("h_worker_start: too many arguments");
    } else if ((pid = spawn(b.argv, w->log)) > 0) {
        memset(&w->proc, 0, sizeof(w->proc));
        w->proc.pid = pid;
        env->nworkers++;
    }
    argv_free(&b);
    return pid;
}

const char *h_worker_log_path(h_env *env, int idx)
{
    if (idx < 0 || idx >= H_MAX_WORKERS)
        return NULL;
    if (idx >= env->nworkers)
        snprintf(env->workers[idx].log, sizeof(env->workers[idx].log), "%s/worker-%d.log",
                 env->dir, idx);
    return env->workers[idx].log;
}

static h_worker *worker_find(h_env *env, pid_t pid)
{
    for (int i = 0; i < env->nworkers; i++)
        if (env->workers[i].proc.pid == pid)
            return &env->workers[i];
    return NULL;
}

int h_worker_kill(h_env *env, pid_t pid, int sig)
{
    h_worker *w = worker_find(env, pid);

    if (!w || proc_poll(&w->proc))
        return -1;
    return kill(pid, sig) == 0 ? 0 : -1;
}

int h_worker_wait_exit(h_env *env, pid_t pid, int timeout_ms)
{
    h_worker *w = worker_find(env, pid);

    if (!w || !proc_wait(&w->proc, timeout_ms))
        return -1;
    return exit_code(w->proc.status);
}

bool h_worker_alive(h_env *env, pid_t pid)
{
    h_worker *w = worker_find(env, pid);

    return w && !proc_poll(&w->proc);
}

int h_wait_file_contains(const char *path, const char *needle, int timeout_ms)
{
    int64_t deadline = h_now_ms() + timeout_ms;

    for (;;) {
        FILE *f = fopen(path, "r");

        if (f) {
            char *line = NULL;
            size_t cap = 0;
            bool found = false;

            while (!found && getline(&line, &cap, f) >= 0)
                found = strstr(line, needle) != NULL;
            free(line);
            fclose(f);
            if (found)
                return 0;
        }
        if (h_now_ms() >= deadline)
            return -1;
        sleep_ms(50);
    }
}

/* --- Kafka clients ------------------------------------------------------------------- */

/* Per-message state of a synchronous produce, owned by whoever finishes last. */
typedef struct sync_dr {
    int done;
    int abandoned; /* the waiter timed out: the callback frees */
    rd_kafka_resp_err_t err;
} sync_dr;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    h_env *env = opaque;
    sync_dr *s = m->_private;

    (void)rk;
    if (s) {
        s->done = 1;
        s->err = m->err;
        if (s->abandoned)
            free(s);
        return;
    }
    if (m->err) {
        env->dr_failures++;
        h_log("delivery to %s failed: %s", rd_kafka_topic_name(m->rkt),
              rd_kafka_err2str(m->err));
    }
}

/* Sets a librdkafka property. @returns 0 or -1 (logged). */
static int conf_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char errstr[256];

    if (rd_kafka_conf_set(conf, k, v, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        h_log("%s=%s: %s", k, v, errstr);
        return -1;
    }
    return 0;
}

/* @returns the env's producer, created on first use; NULL without a broker. It is
 * idempotent, as every feeder of the input topics should be: without it a retried
 * produce request may land after its successor and reorder a work order's events (an
 * order closed before its signature arrives completes twice, at two versions). */
static rd_kafka_t *producer_get(h_env *env)
{
    char errstr[256];
    rd_kafka_conf_t *conf;

    if (env->producer)
        return env->producer;
    if (!h_bootstrap(env)) {
        h_log("produce: no broker running");
        return NULL;
    }
    conf = rd_kafka_conf_new();
    if (conf_set(conf, "bootstrap.servers", env->bootstrap) ||
        conf_set(conf, "client.id", "cfd-harness") || conf_set(conf, "acks", "all") ||
        conf_set(conf, "enable.idempotence", "true") || conf_set(conf, "linger.ms", "5") ||
        conf_set(conf, "message.timeout.ms", "30000")) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    for (int i = 0; i < env->n_producer_conf; i++) {
        if (conf_set(conf, env->producer_conf[i][0], env->producer_conf[i][1])) {
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, env);
    env->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!env->producer) {
        h_log("producer: %s", errstr);
        rd_kafka_conf_destroy(conf);
    }
    return env->producer;
}

/* @returns true when the partition has a leader and all its replicas in sync. */
static bool partition_in_sync(const struct rd_kafka_metadata_partition *mp)
{
    return !mp->err && mp->leader >= 0 && mp->isr_cnt == mp->replica_cnt;
}

bool h_broker_in_sync(h_env *env, int n)
{
    rd_kafka_t *rk = producer_get(env);
    const struct rd_kafka_metadata *md = NULL;
    bool ok;

    if (!rk || rd_kafka_metadata(rk, 1, NULL, &md, 2000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return false;
    ok = md->broker_cnt == n;
    for (int t = 0; ok && t < md->topic_cnt; t++) {
        ok = !md->topics[t].err;
        for (int p = 0; ok && p < md->topics[t].partition_cnt; p++)
            ok = partition_in_sync(&md->topics[t].partitions[p]);
    }
    rd_kafka_metadata_destroy(md);
    return ok;
}

bool h_broker_node_serving(h_env *env, int id)
{
    char addr[64], errstr[256];
    const char *p = env->bootstrap;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_conf_t *conf;
    rd_kafka_t *rk;
    bool ok;

    for (int k = 1; k < id && p; k++)
        if ((p = strchr(p, ',')))
            p++;
    if (!p || !*p)
        return false;
    snprintf(addr, sizeof(addr), "%.*s", (int)strcspn(p, ","), p);
    conf = rd_kafka_conf_new();
    if (conf_set(conf, "bootstrap.servers", addr) || conf_set(conf, "log_level", "0") ||
        !(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)))) {
        rd_kafka_conf_destroy(conf);
        return false;
    }
    /* Only addr is known yet: the answer is that node's own. */
    ok = rd_kafka_metadata(rk, 0, NULL, &md, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR &&
         md->orig_broker_id == id;
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_destroy(rk);
    return ok;
}

void h_broker_explain(h_env *env)
{
    rd_kafka_t *rk;
    const struct rd_kafka_metadata *md = NULL;
    char cmd[2 * H_PATH_MAX];

    if (!env->kafka)
        return;
    /* The script's own status, then each node's last errors (its log is Kafka's). */
    snprintf(cmd, sizeof(cmd),
             "'%s/scripts/kafka.sh' status '%s' >&2; for d in '%s'/node-*; do "
             "echo \"--- $d: last errors ---\" >&2; "
             "grep -E ' (ERROR|FATAL) ' \"$d/kafka.log\" | tail -n 8 | cut -c1-400 >&2; "
             "done",
             CFD_SOURCE_DIR, env->kafka_dir, env->kafka_dir);
    if (system(cmd) != 0)
        h_log("broker status: the script failed");
    if (!(rk = producer_get(env)) ||
        rd_kafka_metadata(rk, 1, NULL, &md, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        h_log("broker status: no metadata within 5 s");
        return;
    }
    fprintf(stderr, "metadata: %d brokers listed\n", md->broker_cnt);
    for (int t = 0; t < md->topic_cnt; t++) {
        const struct rd_kafka_metadata_topic *mt = &md->topics[t];
        if (mt->err)
            fprintf(stderr, "  %s: %s\n", mt->topic, rd_kafka_err2str(mt->err));
        for (int p = 0; p < mt->partition_cnt; p++) {
            const struct rd_kafka_metadata_partition *mp = &mt->partitions[p];
            if (!partition_in_sync(mp))
                fprintf(stderr, "  %s [%d]: leader %d, %d of %d replicas in sync%s%s\n",
                        mt->topic, mp->id, mp->leader, mp->isr_cnt, mp->replica_cnt,
                        mp->err ? ", " : "", mp->err ? rd_kafka_err2str(mp->err) : "");
        }
    }
    rd_kafka_metadata_destroy(md);
}

/* Enqueues one message with opaque as its delivery state; retries for 10 s while
 * the local queue is full. @returns 0 or -1. */
static int enqueue(rd_kafka_t *rk, const char *topic, const h_out_msg *msg, void *opaque)
{
    int64_t deadline = h_now_ms() + 10000;
    rd_kafka_resp_err_t err;

    for (;;) {
        if (msg->id)
            err = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_KEY(msg->key, msg->key ? strlen(msg->key) : 0),
                RD_KAFKA_V_VALUE((void *)msg->value, msg->len),
                RD_KAFKA_V_HEADER("id", msg->id, -1), RD_KAFKA_V_OPAQUE(opaque),
                RD_KAFKA_V_END);
        else
            err = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_KEY(msg->key, msg->key ? strlen(msg->key) : 0),
                RD_KAFKA_V_VALUE((void *)msg->value, msg->len), RD_KAFKA_V_OPAQUE(opaque),
                RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || h_now_ms() >= deadline)
            break;
        rd_kafka_poll(rk, 50);
    }
    if (err) {
        h_log("produce to %s: %s", topic, rd_kafka_err2str(err));
        return -1;
    }
    rd_kafka_poll(rk, 0);
    return 0;
}

int h_producer_set(h_env *env, const char *key, const char *value)
{
    if (env->producer) {
        h_log("h_producer_set(%s): the producer exists already", key);
        return -1;
    }
    if (env->n_producer_conf == H_MAX_PRODUCER_CONF || strlen(key) >= 128 ||
        strlen(value) >= 128) {
        h_log("h_producer_set(%s): too many or too long", key);
        return -1;
    }
    snprintf(env->producer_conf[env->n_producer_conf][0], 128, "%s", key);
    snprintf(env->producer_conf[env->n_producer_conf][1], 128, "%s", value);
    env->n_producer_conf++;
    return 0;
}

int h_produce_id(h_env *env, const char *topic, const char *key, const void *buf,
                 size_t len, const char *id)
{
    h_out_msg msg = {key, buf, len, id};
    rd_kafka_t *rk = producer_get(env);
    int64_t deadline = h_now_ms() + 10000;
    sync_dr *s;
    int rc;

    if (!rk || !(s = calloc(1, sizeof(*s))))
        return -1;
    if (enqueue(rk, topic, &msg, s) != 0) {
        free(s);
        return -1;
    }
    while (!s->done && h_now_ms() < deadline)
        rd_kafka_poll(rk, 50);
    if (!s->done) {
        h_log("produce to %s: no delivery report in 10 s", topic);
        s->abandoned = 1;
        return -1;
    }
    if (s->err)
        h_log("produce to %s: %s", topic, rd_kafka_err2str(s->err));
    rc = s->err ? -1 : 0;
    free(s);
    return rc;
}

int h_topic_config(h_env *env, const char *topic, const char *key, const char *value)
{
    rd_kafka_t *rk;
    rd_kafka_ConfigResource_t *res;
    rd_kafka_queue_t *q;
    rd_kafka_event_t *ev;
    int rc = -1;

    if (!env->kafka)
        return 0; /* the mock enforces no topic configs */
    if (!(rk = producer_get(env)))
        return -1;
    res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    rd_kafka_ConfigResource_set_config(res, key, value);
    q = rd_kafka_queue_new(rk);
    rd_kafka_AlterConfigs(rk, &res, 1, NULL, q);
    ev = rd_kafka_queue_poll(q, 30000);
    if (!ev) {
        h_log("alter config of %s: no answer in 30 s", topic);
    } else if (rd_kafka_event_error(ev)) {
        h_log("alter config of %s: %s", topic, rd_kafka_event_error_string(ev));
    } else {
        size_t n;
        const rd_kafka_ConfigResource_t **r = rd_kafka_AlterConfigs_result_resources(
            rd_kafka_event_AlterConfigs_result(ev), &n);
        if (n == 1 && rd_kafka_ConfigResource_error(r[0]) == RD_KAFKA_RESP_ERR_NO_ERROR)
            rc = 0;
        else
            h_log("alter config of %s: %s", topic,
                  n == 1 ? rd_kafka_ConfigResource_error_string(r[0]) : "no result");
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy(res);
    return rc;
}

int h_produce(h_env *env, const char *topic, const char *key, const void *buf, size_t len)
{
    return h_produce_id(env, topic, key, buf, len, NULL);
}

int h_produce_async(h_env *env, const char *topic, const h_out_msg *msg)
{
    rd_kafka_t *rk = producer_get(env);

    return rk ? enqueue(rk, topic, msg, NULL) : -1;
}

int h_flush(h_env *env, int timeout_ms)
{
    int failures;

    if (!env->producer)
        return 0;
    if (rd_kafka_flush(env->producer, timeout_ms) == RD_KAFKA_RESP_ERR__TIMED_OUT) {
        h_log("flush: %d message(s) still in flight after %d ms",
              rd_kafka_outq_len(env->producer), timeout_ms);
        return -1;
    }
    failures = env->dr_failures;
    env->dr_failures = 0;
    return failures;
}

int h_produce_batch(h_env *env, const char *topic, const h_out_msg *msgs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (h_produce_async(env, topic, &msgs[i]) != 0)
            return -1;
    return h_flush(env, 30000) == 0 ? 0 : -1;
}

/* Asks for topic's metadata, which updates the client's cache of its leaders. */
static void refresh_metadata(rd_kafka_t *rk, const char *topic)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;

    if (!rkt)
        return;
    if (rd_kafka_metadata(rk, 0, rkt, &md, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
}

int h_topic_ends(h_env *env, const char *topic, int64_t *ends, int nparts, int timeout_ms)
{
    rd_kafka_t *rk = producer_get(env);
    int64_t deadline = h_now_ms() + timeout_ms;

    if (!rk)
        return -1;
    for (int p = 0; p < nparts; p++) {
        for (;;) {
            int64_t lo = -1, hi = -1;
            int64_t left = deadline - h_now_ms();
            rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
                rk, topic, p, &lo, &hi,
                left < 1000 ? 1000 : (int)(left < 5000 ? left : 5000));
            if (!err) {
                ends[p] = hi;
                break;
            }
            if (h_now_ms() >= deadline) {
                h_log("watermarks of %s[%d]: %s", topic, p, rd_kafka_err2str(err));
                return -1;
            }
            /* the query uses the cached leader, which librdkafka does not refresh on
             * NOT_LEADER: a metadata request does (a node restarted moved it) */
            refresh_metadata(rk, topic);
            sleep_ms(100);
        }
    }
    return 0;
}

int h_group_committed(h_env *env, const char *topic, int64_t *offsets, int nparts)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_topic_partition_list_t *parts;
    rd_kafka_resp_err_t err;
    rd_kafka_t *rk;
    int rc = 0;

    if (!h_bootstrap(env)) {
        h_log("committed offsets: no broker running");
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    /* A consumer of the group that never subscribes: it only asks the coordinator. */
    if (conf_set(conf, "bootstrap.servers", env->bootstrap) ||
        conf_set(conf, "group.id", env->group) ||
        conf_set(conf, "client.id", "cfd-harness-committed")) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    if (!(rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr)))) {
        h_log("committed offsets: %s", errstr);
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    parts = rd_kafka_topic_partition_list_new(nparts);
    for (int p = 0; p < nparts; p++)
        rd_kafka_topic_partition_list_add(parts, topic, p);
    /* The coordinator may be moving or loading (NOT_COORDINATOR,
     * COORDINATOR_LOAD_IN_PROGRESS on a real cluster): ask again for up to 30 s. */
    for (int64_t until = h_now_ms() + 30000;
         (err = rd_kafka_committed(rk, parts, 10000)) && h_now_ms() < until;)
        sleep_ms(200);
    if (err) {
        h_log("committed offsets of %s: %s", topic, rd_kafka_err2str(err));
        rc = -1;
    } else {
        for (int p = 0; p < nparts; p++)
            offsets[p] = parts->elems[p].err ? -1 : parts->elems[p].offset;
    }
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_destroy(rk);
    return rc;
}

void h_msg_clear(h_msg *m)
{
    free(m->key);
    free(m->value);
    free(m->id);
    free(m->type);
    memset(m, 0, sizeof(*m));
}

/* @returns a NUL-terminated copy of len bytes at p, NULL for NULL p. */
static char *dup_bytes(const void *p, size_t len)
{
    char *s;

    if (!p)
        return NULL;
    if ((s = malloc(len + 1))) {
        memcpy(s, p, len);
        s[len] = '\0';
    }
    return s;
}

/* Assigns every partition of topic from the beginning, waiting up to 10 s for
 * its metadata. @returns 0 or -1. */
static int assign_all(rd_kafka_t *rk, const char *topic)
{
    int64_t deadline = h_now_ms() + 10000;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_partition_list_t *parts = NULL;
    rd_kafka_resp_err_t err;
    int rc = -1;

    if (!rkt)
        return -1;
    while (h_now_ms() < deadline) {
        err = rd_kafka_metadata(rk, 0, rkt, &md, 2000);
        if (!err && md->topic_cnt == 1 && !md->topics[0].err &&
            md->topics[0].partition_cnt > 0)
            break;
        if (md)
            rd_kafka_metadata_destroy(md);
        md = NULL;
        sleep_ms(100);
    }
    if (!md) {
        h_log("no metadata for topic %s in 10 s", topic);
        goto out;
    }
    parts = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
    for (int i = 0; i < md->topics[0].partition_cnt; i++)
        rd_kafka_topic_partition_list_add(parts, topic, md->topics[0].partitions[i].id)
            ->offset = RD_KAFKA_OFFSET_BEGINNING;
    if ((err = rd_kafka_assign(rk, parts))) {
        h_log("assign %s: %s", topic, rd_kafka_err2str(err));
        goto out;
    }
    rc = 0;
out:
    if (parts)
        rd_kafka_topic_partition_list_destroy(parts);
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return rc;
}

h_consumer *h_consume_open(h_env *env, const char *topic)
{
    char errstr[256], group[200];
    rd_kafka_conf_t *conf;
    h_consumer *c;

    if (env->nconsumers == H_MAX_CONSUMERS) {
        h_log("more than %d consumers", H_MAX_CONSUMERS);
        return NULL;
    }
    if (!h_bootstrap(env)) {
        h_log("consume: no broker running");
        return NULL;
    }
    if (!(c = calloc(1, sizeof(*c))))
        return NULL;
    c->env = env;
    /* A group id of its own: this reader never joins the workers' group. */
    snprintf(group, sizeof(group), "%s-reader-%d", env->group, env->reader_seq++);
    conf = rd_kafka_conf_new();
    if (conf_set(conf, "bootstrap.servers", env->bootstrap) ||
        conf_set(conf, "group.id", group) ||
        conf_set(conf, "client.id", "cfd-harness-reader") ||
        conf_set(conf, "enable.auto.commit", "false") ||
        conf_set(conf, "enable.auto.offset.store", "false") ||
        conf_set(conf, "auto.offset.reset", "earliest")) {
        rd_kafka_conf_destroy(conf);
        free(c);
        return NULL;
    }
    if (!(c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr)))) {
        h_log("consumer: %s", errstr);
        rd_kafka_conf_destroy(conf);
        free(c);
        return NULL;
    }
    rd_kafka_poll_set_consumer(c->rk);
    if (assign_all(c->rk, topic) != 0) {
        rd_kafka_destroy_flags(c->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
        free(c);
        return NULL;
    }
    env->consumers[env->nconsumers++] = c;
    return c;
}

int h_consume(h_consumer *c, int timeout_ms, h_msg *out)
{
    int64_t deadline = h_now_ms() + timeout_ms;

    memset(out, 0, sizeof(*out));
    for (;;) {
        int64_t left = deadline - h_now_ms();
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, left > 0 ? (int)left : 0);
        rd_kafka_headers_t *hdrs;
        const void *val;
        size_t size;

        if (!m) {
            if (h_now_ms() >= deadline)
                return 0;
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            rd_kafka_message_destroy(m);
            continue;
        }
        if (m->err) {
            h_log("consume: %s", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            return -1;
        }
        snprintf(out->topic, sizeof(out->topic), "%s", rd_kafka_topic_name(m->rkt));
        out->partition = m->partition;
        out->offset = m->offset;
        out->key = dup_bytes(m->key, m->key_len);
        out->key_len = m->key ? m->key_len : 0;
        out->value = dup_bytes(m->payload ? m->payload : "", m->len);
        out->value_len = m->len;
        out->timestamp_ms = rd_kafka_message_timestamp(m, NULL);
        if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (rd_kafka_header_get_last(hdrs, "id", &val, &size) ==
                RD_KAFKA_RESP_ERR_NO_ERROR)
                out->id = dup_bytes(val ? val : "", size);
            if (rd_kafka_header_get_last(hdrs, "type", &val, &size) ==
                RD_KAFKA_RESP_ERR_NO_ERROR)
                out->type = dup_bytes(val ? val : "", size);
        }
        rd_kafka_message_destroy(m);
        return 1;
    }
}

int h_consume_until(h_consumer *c, int count, int timeout_ms, h_msg_cb cb, void *opaque)
{
    int64_t deadline = h_now_ms() + timeout_ms;
    int n = 0;

    while (n < count) {
        int64_t left = deadline - h_now_ms();
        h_msg m;
        int r, stop = 0;

        if (left <= 0)
            break;
        r = h_consume(c, (int)(left < 500 ? left : 500), &m);
        if (r != 1)
            continue; /* timeouts and transient errors: keep going until the deadline */
        n++;
        if (cb)
            stop = cb(&m, opaque);
        h_msg_clear(&m);
        if (stop)
            break;
    }
    return n;
}

void h_consume_close(h_consumer *c)
{
    h_env *env;

    if (!c)
        return;
    env = c->env;
    for (int i = 0; i < env->nconsumers; i++) {
        if (env->consumers[i] == c) {
            env->consumers[i] = env->consumers[--env->nconsumers];
            break;
        }
    }
    /* Assigned, never subscribed: there is no group to leave. */
    rd_kafka_destroy_flags(c->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    free(c);
}
