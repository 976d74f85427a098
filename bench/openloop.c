/* An open-loop HTTP/1.1 load generator for bench/antifraud_http.py.
 *
 * Request k is due at start + k / rate, whatever became of the earlier ones, and is sent on
 * connection k % C (pipelined behind that connection's unanswered requests). Its latency is
 * counted from when it was due, not from when it could be sent, so a server that falls
 * behind shows it (no "coordinated omission", as in wrk2). wrk — closed loop — cannot offer
 * a fixed rate; a Python client cannot offer thousands of requests a second.
 *
 *   openloop HOST PORT PATH TOKEN BODIES_FILE RATE SECONDS CONNECTIONS
 *
 * Prints one line of JSON: offered, answered, per_s, non_2xx, unanswered, and latency
 * percentiles in milliseconds.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int fd;
    char *out;
    size_t out_len, out_cap, out_sent;
    char in[1 << 16];
    size_t in_len;
    double *due; /* a ring of the due times of requests in flight */
    size_t due_head, due_count, due_cap;
} conn_t;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void append(conn_t *c, const char *data, size_t n) {
    if (c->out_len + n > c->out_cap) {
        c->out_cap = (c->out_len + n) * 2;
        c->out = realloc(c->out, c->out_cap);
    }
    memcpy(c->out + c->out_len, data, n);
    c->out_len += n;
}

static void push_due(conn_t *c, double due) {
    if (c->due_count == c->due_cap) {
        size_t cap = c->due_cap ? c->due_cap * 2 : 64;
        double *ring = malloc(cap * sizeof(double));
        for (size_t i = 0; i < c->due_count; i++) ring[i] = c->due[(c->due_head + i) % c->due_cap];
        free(c->due);
        c->due = ring;
        c->due_head = 0;
        c->due_cap = cap;
    }
    c->due[(c->due_head + c->due_count) % c->due_cap] = due;
    c->due_count++;
}

static double pop_due(conn_t *c) {
    double due = c->due[c->due_head];
    c->due_head = (c->due_head + 1) % c->due_cap;
    c->due_count--;
    return due;
}

static void flush_out(conn_t *c) {
    while (c->out_sent < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent, MSG_NOSIGNAL);
        if (n <= 0) return; /* EAGAIN: the rest when writable */
        c->out_sent += (size_t)n;
    }
    c->out_len = c->out_sent = 0;
}

int main(int argc, char **argv) {
    if (argc != 9) {
        fprintf(stderr, "usage: openloop HOST PORT PATH TOKEN BODIES RATE SECONDS CONNECTIONS\n");
        return 2;
    }
    const char *host = argv[1], *path = argv[3], *token = argv[4];
    int port = atoi(argv[2]), nconn = atoi(argv[8]);
    double rate = atof(argv[6]), seconds = atof(argv[7]);

    /* Every request gets a call id of its own (KUPOL_RUN, then its number, before the body's
     * own id): the same id again would be a switch's retry, which kupol answers from memory
     * without screening it. */
    const char *run = getenv("KUPOL_RUN");
    char run_buf[32];
    if (!run) { snprintf(run_buf, sizeof run_buf, "%x", (unsigned)getpid()); run = run_buf; }
    static const char id_key[] = "\"call_id\": \"";
    FILE *f = fopen(argv[5], "r");
    if (!f) { perror("bodies"); return 2; }
    size_t nbodies = 0, cap = 1024;
    char **bodies = malloc(cap * sizeof(char *));
    size_t *split = malloc(cap * sizeof(size_t)); /* where the id's value starts */
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t len;
    while ((len = getline(&line, &line_cap, f)) > 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (!len) continue;
        if (nbodies == cap) {
            cap *= 2;
            bodies = realloc(bodies, cap * sizeof(char *));
            split = realloc(split, cap * sizeof(size_t));
        }
        char *at = strstr(line, id_key);
        if (!at) { fprintf(stderr, "a body without a call_id\n"); return 2; }
        split[nbodies] = (size_t)(at - line) + sizeof id_key - 1;
        bodies[nbodies++] = strdup(line);
    }
    fclose(f);
    if (!nbodies) { fprintf(stderr, "no bodies\n"); return 2; }

    int ep = epoll_create1(0);
    conn_t *conns = calloc((size_t)nconn, sizeof(conn_t));
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &addr.sin_addr);
    for (int i = 0; i < nconn; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) { perror("connect"); return 2; }
        fcntl(fd, F_SETFL, O_NONBLOCK);
        conns[i].fd = fd;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }

    size_t total = (size_t)(rate * seconds);
    double *lat = malloc((total + 1) * sizeof(double));
    size_t answered = 0, non2xx = 0, sent = 0;
    double start = now_s() + 0.05, end_wait = start + seconds + 5.0;
    struct epoll_event events[256];
    while (answered < total) {
        double t = now_s();
        while (sent < total && start + sent / rate <= t) {
            conn_t *c = &conns[sent % (size_t)nconn];
            const char *body = bodies[sent % nbodies];
            size_t cut = split[sent % nbodies];
            char id[64];
            int id_len = snprintf(id, sizeof id, "%s-%zu-", run, sent);
            char *req;
            int req_len = asprintf(&req, "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: "
                                   "Bearer %s\r\nContent-Type: application/json\r\n"
                                   "Content-Length: %zu\r\n\r\n%.*s%s%s",
                                   path, host, token, strlen(body) + (size_t)id_len, (int)cut,
                                   body, id, body + cut);
            if (req_len < 0) return 2;
            append(c, req, (size_t)req_len);
            free(req);
            push_due(c, start + sent / rate);
            flush_out(c);
            sent++;
        }
        if (t > end_wait) break;
        /* Sleep until the next call is due (to the microsecond: a millisecond timer would
         * either spin a core the server needs or send late). */
        double next = sent < total ? start + sent / rate - now_s() : 0.01;
        if (next < 0) next = 0;
        struct timespec wait = {.tv_sec = (time_t)next,
                                .tv_nsec = (long)((next - (time_t)next) * 1e9)};
        int n = epoll_pwait2(ep, events, 256, &wait, NULL);
        for (int e = 0; e < n; e++) {
            conn_t *c = &conns[events[e].data.u32];
            if (events[e].events & EPOLLOUT) flush_out(c);
            if (!(events[e].events & EPOLLIN)) continue;
            for (;;) {
                ssize_t r = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
                if (r <= 0) break;
                c->in_len += (size_t)r;
                for (;;) { /* every complete response in the buffer */
                    char *head_end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
                    if (!head_end) break;
                    size_t head = (size_t)(head_end - c->in) + 4, body = 0;
                    char *cl = strcasestr(c->in, "content-length:");
                    if (cl && cl < head_end) body = (size_t)atol(cl + 15);
                    if (c->in_len < head + body) break;
                    int status = atoi(c->in + 9);
                    if (status < 200 || status >= 300) non2xx++;
                    if (c->due_count) lat[answered++] = now_s() - pop_due(c);
                    memmove(c->in, c->in + head + body, c->in_len - head - body);
                    c->in_len -= head + body;
                }
            }
        }
    }
    double elapsed = now_s() - start;
    qsort(lat, answered, sizeof(double), cmp_double);
#define PCT(p) (answered ? lat[(size_t)((p) * (answered - 1))] * 1000 : -1.0)
    printf("{\"offered\": %.0f, \"answered\": %zu, \"per_s\": %.0f, \"non_2xx\": %zu, "
           "\"unanswered\": %zu, \"p50_ms\": %.2f, \"p90_ms\": %.2f, \"p99_ms\": %.2f, "
           "\"p999_ms\": %.2f, \"max_ms\": %.2f}\n",
           rate, answered, answered / (elapsed < seconds ? seconds : elapsed), non2xx,
           total - answered, PCT(0.5), PCT(0.9), PCT(0.99), PCT(0.999), PCT(1.0));
    return 0;
}
