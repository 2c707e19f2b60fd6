/*
 * msk_iam.h — Amazon MSK IAM authentication for the Kafka transport
 * (kafka.aws.msk.iam): SASL/OAUTHBEARER whose token is the one AWS's MSK
 * IAM SASL signer libraries make, so MSK brokers with IAM access control
 * accept it:
 *
 *   1. the URL https://kafka.<region>.amazonaws.com/?Action=kafka-cluster%3AConnect
 *      presigned with SigV4 (GET, service "kafka-cluster", host the only
 *      signed header, payload hash of the empty body, X-Amz-Expires=900;
 *      the access key id, the signing time, X-Amz-Security-Token for
 *      temporary credentials and the signature in the query),
 *   2. then "&User-Agent=lakesync%2F<version>" (not signed),
 *   3. the whole URL base64url-encoded without padding.
 *
 * librdkafka gets the token with its lifetime (signing time + 900 s, or the
 * credentials' expiry when that comes first, so librdkafka asks for a new
 * token before the credentials it was signed with lapse) and the access key
 * id as principal name.  Signing uses the S3 store's SigV4 code and
 * credential sources (store/s3_int.h): environment keys, profiles, web
 * identity, container and instance credentials.
 */
#ifndef LKS_TRANSPORT_MSK_IAM_H
#define LKS_TRANSPORT_MSK_IAM_H

#include "store/s3_int.h"

#define LKS_MSK_IAM_EXPIRES_S 900
#define LKS_MSK_IAM_USER_AGENT "lakesync/" LKS_VERSION

/* Appends the token for `key`, signed at now_s (Unix seconds), for a
 * cluster in `region`, and sets *lifetime_ms (Unix milliseconds).
 * LKS_ECONFIG on a bad region or an empty access key id or secret. */
int lks_msk_iam_token(const char *region, const lks_aws_key *key, int64_t now_s, lks_buf *token, int64_t *lifetime_ms,
                      lks_err *err);

/* The region of MSK broker host names ("b-1.c.x.c2.kafka.eu-west-1.amazonaws.com:9098",
 * "boot-x.c1.kafka-serverless.us-east-2.amazonaws.com:9098") in a
 * comma-separated broker list, into region (cap bytes).  1 when every
 * broker names the same region, 0 otherwise. */
int lks_msk_iam_region_of(const char *brokers, char *region, size_t cap);

/* A signer: a region and a credential source. */
typedef struct lks_msk_iam lks_msk_iam;

/* Opens the credential source and signs a first token, so missing or
 * unusable credentials fail here (fetching temporary credentials is a
 * network round trip).  region NULL: from the broker names in `brokers`
 * (lks_msk_iam_region_of).  LKS_ECONFIG naming kafka.aws.region when there
 * is no region, or the credential error (lks_aws_creds_get).  Free with
 * lks_msk_iam_free(). */
int lks_msk_iam_new(const char *region, const char *brokers, lks_msk_iam **out, lks_err *err);
/* A token signed now with the current credentials (renewed as
 * lks_aws_creds_get does): the token NUL-terminated in `token` (appended),
 * *lifetime_ms, the principal name (the access key id) into principal.
 * One caller at a time. */
int lks_msk_iam_sign(lks_msk_iam *m, lks_buf *token, int64_t *lifetime_ms, char *principal, size_t cap, lks_err *err);
/* The region tokens are signed for. */
const char *lks_msk_iam_region(const lks_msk_iam *m);
void lks_msk_iam_free(lks_msk_iam *m);

#endif
