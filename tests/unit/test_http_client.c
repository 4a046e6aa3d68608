/* host/http.c without a server: error mapping and the request_sent flag on real loopback
 * sockets (a closed port; a listener that never answers), retry eligibility, batch order,
 * header-line checks, and what the blackbox line contains (and must not). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "blackbox.h"
#include "clock.h"
#include "http.h"
#include "unit.h"

/* A bound, listening loopback socket; the kernel completes connections, nobody answers. */
static int listen_silent(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    *port = ntohs(a.sin_port);
    return fd;
}

static int closed_port(void)
{
    int port = 0;
    int fd = listen_silent(&port);
    close(fd);
    return port;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = calloc(1, 1 << 16);
    if (buf && fread(buf, 1, (1 << 16) - 1, f) == 0) buf[0] = '\0';
    fclose(f);
    return buf;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char log_path[] = "/tmp/test_http_client.XXXXXX";
    int log_fd = mkstemp(log_path);
    close(log_fd);
    setenv("TITAN_BLACKBOX", log_path, 1);
    setenv("TITAN_LOG_LEVEL", "error", 1);
    blackbox_init();

    char url[256];
    int port = closed_port();
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", port);

    /* A closed port: http.connect, retryable, never sent. */
    http_request req = {.method = "GET", .url = url};
    http_response res;
    http_perform(&req, &res);
    CHECK_STR(res.error_code, "http.connect");
    CHECK_INT(res.request_sent, 0);
    CHECK_INT(res.retryable, 1);
    CHECK_INT(res.status, 0);
    CHECK_INT(res.attempts, 1);
    CHECK(res.body == NULL);
    CHECK(res.error_message[0] != '\0');
    http_response_free(&res);
    http_response_free(&res);                          /* idempotent */

    /* Retries: GET and idempotent requests only. */
    req.retries = 2;
    http_perform(&req, &res);
    CHECK_INT(res.attempts, 3);
    http_response_free(&res);
    req.method = "POST";
    http_perform(&req, &res);
    CHECK_INT(res.attempts, 1);
    http_response_free(&res);
    req.idempotent = 1;
    http_perform(&req, &res);
    CHECK_INT(res.attempts, 3);
    http_response_free(&res);

    /* A listener that never answers: the request went out, so it is in doubt. */
    int silent_port = 0;
    int silent = listen_silent(&silent_port);
    CHECK(silent >= 0);
    char silent_url[256];
    snprintf(silent_url, sizeof silent_url, "http://127.0.0.1:%d/0/private/AddOrder", silent_port);
    http_request post = {.method = "POST", .url = silent_url, .body = "nonce=1", .body_len = 7, .timeout_ms = 200,
                         .retries = 3};
    int64_t t0 = clock_monotonic_ms();
    http_perform(&post, &res);
    int64_t took = clock_monotonic_ms() - t0;
    CHECK_STR(res.error_code, "http.timeout");
    CHECK_INT(res.request_sent, 1);
    CHECK_INT(res.attempts, 1);                        /* POST: never retried */
    CHECK(took >= 190 && took < 1000);
    CHECK(res.elapsed_ms >= 190);
    http_response_free(&res);

    /* A header line with a line break is refused before anything is sent. */
    const char *bad_headers[] = {"X-A: b\r\nX-Injected: 1"};
    http_request bad = {.method = "GET", .url = url, .headers = bad_headers, .header_count = 1};
    http_perform(&bad, &res);
    CHECK_STR(res.error_code, "http.protocol");
    CHECK_INT(res.request_sent, 0);
    CHECK_INT(res.attempts, 0);
    http_response_free(&res);
    http_request no_url = {.method = "GET"};
    http_perform(&no_url, &res);
    CHECK_STR(res.error_code, "http.protocol");
    http_response_free(&res);

    /* A batch answers in request order, each with its own outcome and elapsed time. */
    http_request many[3] = {
        {.method = "GET", .url = silent_url, .timeout_ms = 300},
        {.method = "GET", .url = url},
        bad,
    };
    http_response out[3];
    t0 = clock_monotonic_ms();
    http_perform_many(many, out, 3);
    took = clock_monotonic_ms() - t0;
    CHECK_STR(out[0].error_code, "http.timeout");
    CHECK_STR(out[1].error_code, "http.connect");
    CHECK_STR(out[2].error_code, "http.protocol");
    CHECK(out[0].elapsed_ms >= 290);
    CHECK(out[1].elapsed_ms < 200);
    CHECK(took < 1000);
    for (int i = 0; i < 3; i++) http_response_free(&out[i]);
    http_perform_many(many, out, 0);                   /* nothing to do, no crash */

    /* Header lookups are case-insensitive on the lower-case names. */
    char n1[] = "content-type", v1[] = "application/json", n2[] = "retry-after", v2[] = "3";
    http_header hs[] = {{n1, v1}, {n2, v2}};
    http_response fake = {.headers = hs, .header_count = 2};
    CHECK_STR(http_response_header(&fake, "content-type"), "application/json");
    CHECK_STR(http_response_header(&fake, "Retry-After"), "3");
    CHECK(http_response_header(&fake, "x-missing") == NULL);
    CHECK(http_response_header(&fake, NULL) == NULL);
    CHECK(http_response_header(NULL, "x") == NULL);

    /* The blackbox line: method, URL without credentials or secret query values, no headers. */
    char secret_url[512];
    snprintf(secret_url, sizeof secret_url,
             "http://user:PWVALUE@127.0.0.1:%d/p?api_key=AAAVALUE&x=1&my_token=BBBVALUE&sig=CCCVALUE&q#FRAGVALUE", port);
    const char *hdr[] = {"Authorization: Bearer HDRVALUE"};
    http_request logged = {.method = "DELETE", .url = secret_url, .headers = hdr, .header_count = 1};
    http_perform(&logged, &res);
    http_response_free(&res);
    http_shutdown();                                   /* and the client comes back after it */
    http_perform(&req, &res);
    CHECK_STR(res.error_code, "http.connect");
    http_response_free(&res);
    blackbox_close();
    char *log = read_file(log_path);
    CHECK(log != NULL);
    if (log) {
        CHECK(strstr(log, "\"method\":\"DELETE\"") != NULL);
        CHECK(strstr(log, "api_key=[removed]&x=1&my_token=[removed]&sig=[removed]&q\"") != NULL);
        CHECK(strstr(log, "\"error\":\"http.connect\",\"sent\":false") != NULL);
        CHECK(strstr(log, "\"error\":\"http.timeout\",\"sent\":true") != NULL);
        CHECK(strstr(log, "\"ev\":\"http.retry\"") != NULL);
        const char *never[] = {"AAAVALUE", "BBBVALUE", "CCCVALUE", "PWVALUE", "FRAGVALUE", "HDRVALUE", "nonce=1"};
        for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) CHECK_MSG(strstr(log, never[i]) == NULL, never[i]);
    }
    free(log);
    unlink(log_path);
    close(silent);
    http_shutdown();
    curl_global_cleanup();
    return UNIT_DONE("test_http_client");
}
