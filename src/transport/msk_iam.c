/*
 * msk_iam.c — the tokens of Amazon MSK IAM authentication (msk_iam.h):
 * a SigV4 presigned kafka-cluster:Connect URL, base64url-encoded, signed
 * with the credentials the S3 store would use.
 */
#include "transport/msk_iam.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* SHA-256 of the empty body: the payload hash of the presigned GET */
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MAX_SIGNING_TIME INT64_C(253402300799) /* 9999-12-31T23:59:59Z */

/* ---- the token ------------------------------------------------------------------------- */

int lks_msk_iam_token(const char *region, const lks_aws_key *key, int64_t now_s, lks_buf *token, int64_t *lifetime_ms,
                      lks_err *err) {
    if (!region || lks_aws_region_check(region, NULL) != LKS_OK)
        return lks_err_set(err, LKS_ECONFIG, "kafka.aws.region '%.64s': not an AWS region name (like eu-west-1)",
                           region ? region : "");
    if (!key->access_key || !*key->access_key || !key->secret || !*key->secret)
        return lks_err_set(err, LKS_ECONFIG, "kafka.aws.msk.iam: empty AWS access key id or secret access key");
    if (now_s < 0 || now_s > MAX_SIGNING_TIME)
        return lks_err_set(err, LKS_EINVAL, "kafka.aws.msk.iam: signing time %lld out of range", (long long)now_s);
    char amz_date[20], host[96];
    time_t t = (time_t)now_s;
    struct tm tmv;
    gmtime_r(&t, &tmv);
    strftime(amz_date, sizeof amz_date, "%Y%m%dT%H%M%SZ", &tmv);
    snprintf(host, sizeof host, "kafka.%s.amazonaws.com", region);
    const lks_sigv4_param action = {"Action", "kafka-cluster:Connect"};
    const lks_sigv4_presign_req rq = {"GET",        host,     "/",    &action,         1,
                                      EMPTY_SHA256, amz_date, region, "kafka-cluster", LKS_MSK_IAM_EXPIRES_S};
    lks_buf url;
    lks_buf_init(&url, 0);
    int rc = lks_buf_printf(&url, "https://%s/?", host);
    if (rc == LKS_OK && (rc = lks_sigv4_presign_query(&rq, key->access_key, key->secret, key->token, &url, err)) != 0) {
        lks_buf_free(&url);
        return rc;
    }
    static const char ua[] = LKS_MSK_IAM_USER_AGENT;
    if (rc == LKS_OK)
        rc = lks_buf_printf(&url, "&User-Agent=");
    if (rc == LKS_OK)
        rc = lks_sigv4_uri_encode(&url, ua, sizeof ua - 1, 0);
    /* base64url without padding */
    size_t start = token->len;
    if (rc == LKS_OK)
        rc = lks_base64_encode(token, url.ptr, url.len);
    if (rc == LKS_OK) {
        for (size_t i = start; i < token->len; i++) {
            if (token->ptr[i] == '+')
                token->ptr[i] = '-';
            else if (token->ptr[i] == '/')
                token->ptr[i] = '_';
        }
        while (token->len > start && token->ptr[token->len - 1] == '=')
            token->len--;
        rc = lks_buf_cstr(token);
    }
    if (url.ptr)
        memset(url.ptr, 0, url.len); /* a bearer credential for 15 minutes */
    lks_buf_free(&url);
    if (rc)
        return lks_err_set(err, rc, "kafka.aws.msk.iam: out of memory");
    int64_t life = (now_s + LKS_MSK_IAM_EXPIRES_S) * 1000;
    if (key->expires_us > 0 && key->expires_us / 1000 < life)
        life = key->expires_us / 1000;
    *lifetime_ms = life;
    return LKS_OK;
}

/* ---- the region in broker names ------------------------------------------------------------- */

static int ends_with(const char *s, size_t n, const char *suffix, size_t *cut) {
    size_t k = strlen(suffix);
    if (n <= k || strncasecmp(s + n - k, suffix, k) != 0)
        return 0;
    *cut = n - k;
    return 1;
}

int lks_msk_iam_region_of(const char *brokers, char *region, size_t cap) {
    char found[64] = "";
    const char *p = brokers;
    if (!p || !*p)
        return 0;
    while (*p) {
        size_t n = strcspn(p, ",");
        const char *h = p;
        p += n + (p[n] == ',');
        /* [PROTOCOL://]host[:port], surrounding blanks ignored */
        while (n && (*h == ' ' || *h == '\t'))
            h++, n--;
        const char *sch = NULL;
        for (size_t i = 0; i + 3 <= n && !sch; i++)
            if (memcmp(h + i, "://", 3) == 0)
                sch = h + i + 3;
        if (sch) {
            n -= (size_t)(sch - h);
            h = sch;
        }
        size_t hl = 0;
        while (hl < n && h[hl] != ':' && h[hl] != ' ' && h[hl] != '\t')
            hl++;
        if (hl && h[hl - 1] == '.')
            hl--; /* a fully qualified name's final dot */
        size_t cut;
        if (!ends_with(h, hl, ".amazonaws.com.cn", &cut) && !ends_with(h, hl, ".amazonaws.com", &cut))
            return 0;
        /* ... .kafka[-serverless].<region> */
        size_t r = cut;
        while (r > 0 && h[r - 1] != '.')
            r--;
        if (r < 2 || cut - r == 0 || cut - r >= sizeof found)
            return 0;
        size_t s = r - 1;
        while (s > 0 && h[s - 1] != '.')
            s--;
        size_t sl = r - 1 - s;
        if (!((sl == 5 && strncasecmp(h + s, "kafka", 5) == 0) ||
              (sl == 16 && strncasecmp(h + s, "kafka-serverless", 16) == 0)))
            return 0;
        char reg[64];
        for (size_t i = 0; i < cut - r; i++) {
            char c = h[r + i];
            reg[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        reg[cut - r] = 0;
        if (lks_aws_region_check(reg, NULL) != LKS_OK || (found[0] && strcmp(found, reg) != 0))
            return 0;
        memcpy(found, reg, sizeof reg);
    }
    if (!found[0] || strlen(found) >= cap)
        return 0;
    memcpy(region, found, strlen(found) + 1);
    return 1;
}

/* ---- the signer ------------------------------------------------------------------------------- */

struct lks_msk_iam {
    char region[64];
    lks_aws_creds *creds;
};

int lks_msk_iam_sign(lks_msk_iam *m, lks_buf *token, int64_t *lifetime_ms, char *principal, size_t cap, lks_err *err) {
    lks_aws_key key;
    int rc = lks_aws_creds_get(m->creds, 0, &key, err);
    if (rc == LKS_OK)
        rc = lks_msk_iam_token(m->region, &key, (int64_t)time(NULL), token, lifetime_ms, err);
    if (rc == LKS_OK)
        snprintf(principal, cap, "%s", key.access_key);
    return rc;
}

const char *lks_msk_iam_region(const lks_msk_iam *m) { return m->region; }

void lks_msk_iam_free(lks_msk_iam *m) {
    if (!m)
        return;
    lks_aws_creds_free(m->creds);
    free(m);
}

int lks_msk_iam_new(const char *region, const char *brokers, lks_msk_iam **out, lks_err *err) {
    *out = NULL;
    char derived[64];
    if (!region || !*region) {
        if (!lks_msk_iam_region_of(brokers, derived, sizeof derived))
            return lks_err_set(err, LKS_ECONFIG,
                               "kafka.aws.msk.iam: no region: set kafka.aws.region (the brokers '%.200s' are not "
                               "MSK broker names that say it)",
                               brokers ? brokers : "");
        region = derived;
    }
    if (lks_aws_region_check(region, NULL) != LKS_OK)
        return lks_err_set(err, LKS_ECONFIG, "kafka.aws.region '%.64s': not an AWS region name (like eu-west-1)",
                           region);
    lks_msk_iam *m = calloc(1, sizeof *m);
    if (!m)
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    snprintf(m->region, sizeof m->region, "%s", region);
    int rc = lks_aws_creds_open(NULL, region, "kafka.aws.msk.iam", &m->creds, err);
    if (rc == LKS_OK) {
        /* a first token: credentials that are missing or unusable fail now */
        lks_buf tok;
        lks_buf_init(&tok, 0);
        int64_t life;
        char principal[256];
        rc = lks_msk_iam_sign(m, &tok, &life, principal, sizeof principal, err);
        if (tok.ptr)
            memset(tok.ptr, 0, tok.len);
        lks_buf_free(&tok);
    }
    if (rc) {
        lks_msk_iam_free(m);
        return rc;
    }
    lks_log(LKS_LOG_DEBUG, "kafka", "MSK IAM authentication: region %s, credentials from %s", m->region,
            lks_aws_creds_source(m->creds));
    *out = m;
    return LKS_OK;
}
