/* Kubernetes API client (see kube.h). */
#include "kube.h"

#include "buf.h"
#include "cleanup.h"
#include "fs.h"
#include "retry.h"
#include "template.h"
#include "util.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SA_DIR             "/var/run/secrets/kubernetes.io/serviceaccount"
#define DEFAULT_TIMEOUT_MS 10000
#define BODY_MAX           (4 * 1024 * 1024)
#define TOKEN_MAX          (64 * 1024)

struct drv_kube {
    char *url;
    char *ca_path;
    char *token_path;
    bool token_required; /* configured explicitly: a missing file is an error */
    bool ca_required;
    int64_t timeout_ms;
    struct drv_retry_policy retry;
};

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (d == NULL)
        abort();
    return d;
}

static bool set(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static void global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int drv_kube_open(const struct drv_config *c, struct drv_kube **ret, oss_error *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    /* curl_global_init is not thread-safe; once per process is enough */
    pthread_once(&once, global_init);
    _cleanup_free_ char *url = NULL;
    if (drv_kube_base_url(c->kube_api_url, getenv("KUBERNETES_SERVICE_HOST"),
                          getenv("KUBERNETES_SERVICE_PORT"), &url, err) < 0)
        return -1;
    struct drv_kube *k = calloc(1, sizeof *k);
    if (k == NULL)
        abort();
    k->url = TAKE_PTR(url);
    k->ca_path = xstrdup(set(c->kube_ca_path) ? c->kube_ca_path : SA_DIR "/ca.crt");
    k->token_required = set(c->kube_token_path);
    k->ca_required = set(c->kube_ca_path);
    k->token_path = xstrdup(set(c->kube_token_path) ? c->kube_token_path : SA_DIR "/token");
    k->timeout_ms = c->api_timeout_ms > 0 ? c->api_timeout_ms : DEFAULT_TIMEOUT_MS;
    k->retry = (struct drv_retry_policy)DRV_RETRY_POLICY_DEFAULT;
    *ret = k;
    return 0;
}

void drv_kube_close(struct drv_kube *k)
{
    if (k == NULL)
        return;
    free(k->url);
    free(k->ca_path);
    free(k->token_path);
    free(k);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    oss_buf *b = ud;
    if (b->len + size * n > BODY_MAX)
        return 0; /* makes curl fail with CURLE_WRITE_ERROR */
    oss_buf_put(b, p, size * n);
    return size * n;
}

static void curl_cleanupp(CURL **c)
{
    if (*c)
        curl_easy_cleanup(*c);
}
static void slist_freep(struct curl_slist **l)
{
    if (*l)
        curl_slist_free_all(*l);
}

/* One HTTP exchange.  On return *ret_status is the HTTP status (0 when the
 * transport failed, with err set). */
static int http_once(struct drv_kube *k, const char *method, const char *path, const char *body,
                     const char *content_type, long *ret_status, oss_buf *resp, oss_error *err)
{
    /* unset and absent: the system trust store (a proxy, a test server) */
    bool have_ca = access(k->ca_path, R_OK) == 0;
    if (!have_ca && k->ca_required)
        return oss_err_errno(err, "Kubernetes CA file %s", k->ca_path);
    _cleanup_free_ char *url = NULL;
    if (asprintf(&url, "%s%s", k->url, path) < 0)
        abort();
    struct curl_slist *hdrs __attribute__((cleanup(slist_freep))) = NULL;
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    if (content_type) {
        _cleanup_free_ char *h = NULL;
        if (asprintf(&h, "Content-Type: %s", content_type) < 0)
            abort();
        hdrs = curl_slist_append(hdrs, h);
    }
    /* re-read per request: bound service-account tokens rotate */
    oss_buf tok = OSS_BUF_INIT;
    if (access(k->token_path, F_OK) == 0 || k->token_required) {
        if (oss_read_file(k->token_path, TOKEN_MAX, &tok, err) < 0) {
            oss_err_prefix(err, "reading the Kubernetes token file");
            oss_buf_free(&tok);
            return -1;
        }
        while (tok.len > 0 && strchr("\r\n ", tok.data[tok.len - 1]))
            tok.data[--tok.len] = '\0';
        /* it becomes a header line: no control characters, no header
         * injection; the value itself is never echoed */
        for (size_t i = 0; i < tok.len; i++)
            if ((unsigned char)tok.data[i] <= 0x20 || (unsigned char)tok.data[i] >= 0x7f) {
                explicit_bzero(tok.data, tok.cap);
                oss_buf_free(&tok);
                return oss_err(err, OSS_ERR_INVALID, 0,
                               "the Kubernetes token file %s holds characters a token cannot "
                               "have",
                               k->token_path);
            }
        if (tok.len > 0) {
            oss_buf h = OSS_BUF_INIT;
            oss_buf_puts(&h, "Authorization: Bearer ");
            oss_buf_put(&h, tok.data, tok.len);
            hdrs = curl_slist_append(hdrs, h.data);
            explicit_bzero(h.data, h.len);
            oss_buf_free(&h);
        }
        if (tok.data)
            explicit_bzero(tok.data, tok.cap);
        oss_buf_free(&tok);
    }
    CURL *c __attribute__((cleanup(curl_cleanupp))) = curl_easy_init();
    if (c == NULL)
        return oss_err(err, OSS_ERR_CURL, CURLE_FAILED_INIT, "curl_easy_init failed");
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* we are one thread of many */
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)k->timeout_ms);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
    /* names the driver in the API server's audit log (and lets the RBAC
     * test tell the driver's requests from the test tools') */
    curl_easy_setopt(c, CURLOPT_USERAGENT, DRV_OWNER "/" OSS_VERSION);
    if (have_ca)
        curl_easy_setopt(c, CURLOPT_CAINFO, k->ca_path);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    CURLcode rc = curl_easy_perform(c);
    /* the header list held the token */
    for (struct curl_slist *l = hdrs; l; l = l->next)
        explicit_bzero(l->data, strlen(l->data));
    if (rc != CURLE_OK)
        return oss_err(err, OSS_ERR_CURL, (int)rc, "%s %s: %s", method, path,
                       errbuf[0] ? errbuf : curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, ret_status);
    return 0;
}

static bool transient_http(long st)
{
    return st == 429 || st == 500 || st == 502 || st == 503 || st == 504;
}

static bool transient_curl(const oss_error *e)
{
    return e->domain == OSS_ERR_CURL &&
           (e->code == CURLE_COULDNT_CONNECT || e->code == CURLE_RECV_ERROR ||
            e->code == CURLE_SEND_ERROR || e->code == CURLE_GOT_NOTHING);
}

static uint32_t jitter(void)
{
    static __thread uint32_t s;
    if (s == 0)
        s = (uint32_t)oss_mono_ns() ^ (uint32_t)gettid() ^ 0x85ebca6bu;
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    return s;
}

/* An exchange with retries of transient failures within the timeout; a
 * final HTTP status >= 400 becomes an OSS_ERR_HTTP error carrying the
 * Status message the server sent. */
static int http(struct drv_kube *k, const char *method, const char *path, const char *body,
                const char *content_type, oss_buf *resp, oss_error *err)
{
    int64_t end = oss_mono_ms() + k->timeout_ms;
    for (unsigned attempt = 0;; attempt++) {
        long st = 0;
        oss_buf_reset(resp);
        oss_error e = {0};
        int r = http_once(k, method, path, body, content_type, &st, resp, &e);
        bool again = r < 0 ? transient_curl(&e) : transient_http(st);
        if (r == 0 && st < 400)
            return 0;
        int64_t d =
            again ? drv_retry_delay_ms(&k->retry, attempt, jitter(), end - oss_mono_ms()) : -1;
        if (d < 0) {
            if (r < 0) {
                *err = e;
                return -1;
            }
            struct drv_kube_obj o;
            oss_error pe = {0};
            const char *msg = "";
            if (resp->len && drv_kube_parse(resp->data, resp->len, &o, &pe) == 0)
                msg = o.message;
            return oss_err(err, OSS_ERR_HTTP, (int)st, "%s %s: HTTP %ld%s%s", method, path, st,
                           msg[0] ? ": " : "", msg);
        }
        struct timespec ts = {.tv_sec = d / 1000, .tv_nsec = (d % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
    }
}

static int make_path(enum drv_kube_kind kind, const char *ns, const char *name, const char *query,
                     char **ret, oss_error *err)
{
    /* both become URL path segments: only DNS names may get there */
    if (!oss_dns1123_label_valid(ns))
        return oss_err(err, OSS_ERR_INVALID, 0, "namespace '%s' is not a DNS-1123 label", ns);
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
            return oss_err(err, OSS_ERR_INVALID, 0, "object name '%s' is not a DNS name", name);
    if (name[0] == '\0' || strlen(name) > 253)
        return oss_err(err, OSS_ERR_INVALID, 0, "object name '%s' is not a DNS name", name);
    if (asprintf(ret, "%s%s%s%s%s", kind == DRV_KUBE_SECRET ? "/api/v1" : "/apis/ate.dev/v1alpha1",
                 "/namespaces/", ns, kind == DRV_KUBE_SECRET ? "/secrets/" : "/actortemplates/",
                 name) < 0)
        abort();
    if (query) {
        char *q = NULL;
        if (asprintf(&q, "%s%s", *ret, query) < 0)
            abort();
        free(*ret);
        *ret = q;
    }
    return 0;
}

int drv_kube_apply(struct drv_kube *k, enum drv_kube_kind kind, const char *ns, const char *name,
                   const char *body, oss_error *err)
{
    _cleanup_free_ char *path = NULL;
    /* Apply patches are YAML, and JSON is YAML: the body is sent as is.
     * Strict validation makes a real API server refuse fields the CRD does
     * not have instead of dropping them silently. */
    if (make_path(kind, ns, name, "?fieldManager=" DRV_OWNER "&force=true&fieldValidation=Strict",
                  &path, err) < 0)
        return -1;
    _cleanup_buf_ oss_buf resp = OSS_BUF_INIT;
    return http(k, "PATCH", path, body, "application/apply-patch+yaml", &resp, err);
}

int drv_kube_merge_patch(struct drv_kube *k, enum drv_kube_kind kind, const char *ns,
                         const char *name, const char *body, oss_error *err)
{
    _cleanup_free_ char *path = NULL;
    if (make_path(kind, ns, name, "?fieldManager=" DRV_OWNER, &path, err) < 0)
        return -1;
    _cleanup_buf_ oss_buf resp = OSS_BUF_INIT;
    return http(k, "PATCH", path, body, "application/merge-patch+json", &resp, err);
}

int drv_kube_list_secrets(struct drv_kube *k, const char *ns, const char *selector, oss_buf *out,
                          oss_error *err)
{
    if (!oss_dns1123_label_valid(ns))
        return oss_err(err, OSS_ERR_INVALID, 0, "namespace '%s' is not a DNS-1123 label", ns);
    for (const char *p = selector; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("-./%ABCDEF", *p)))
            return oss_err(err, OSS_ERR_INVALID, 0, "label selector '%s' is not URL-safe",
                           selector);
    _cleanup_free_ char *path = NULL;
    if (asprintf(&path, "/api/v1/namespaces/%s/secrets?labelSelector=%s", ns, selector) < 0)
        abort();
    return http(k, "GET", path, NULL, NULL, out, err);
}

int drv_kube_get(struct drv_kube *k, enum drv_kube_kind kind, const char *ns, const char *name,
                 struct drv_kube_obj *ret, oss_error *err)
{
    _cleanup_free_ char *path = NULL;
    if (make_path(kind, ns, name, NULL, &path, err) < 0)
        return -1;
    _cleanup_buf_ oss_buf resp = OSS_BUF_INIT;
    if (http(k, "GET", path, NULL, NULL, &resp, err) < 0)
        return -1;
    if (drv_kube_parse(resp.data ? resp.data : "", resp.len, ret, err) < 0) {
        oss_err_prefix(err, "GET %s", path);
        return -1;
    }
    return 0;
}

int drv_kube_delete(struct drv_kube *k, enum drv_kube_kind kind, const char *ns, const char *name,
                    oss_error *err)
{
    _cleanup_free_ char *path = NULL;
    if (make_path(kind, ns, name, NULL, &path, err) < 0)
        return -1;
    _cleanup_buf_ oss_buf resp = OSS_BUF_INIT;
    oss_error e = {0};
    if (http(k, "DELETE", path, NULL, NULL, &resp, &e) < 0) {
        if (e.domain == OSS_ERR_HTTP && e.code == 404)
            return 0;
        *err = e;
        return -1;
    }
    return 0;
}
