/* test_parquet_schema.c — schemas (build, from a footer), values as JSON,
 * byte sources and sinks. */
#include "harness.h"
#include "parquet/parquet.h"

#include <math.h>
#include <unistd.h>

/* ---- field builders ------------------------------------------------------- */

static lks_pq_field G(const char *name, int rep, int nc) {
    lks_pq_field f = {name, rep, -1, 0, lks_pq_lt(LKS_PQ_LT_NONE), -1, nc};
    return f;
}
static lks_pq_field GL(const char *name, int rep, int nc, int kind) {
    lks_pq_field f = G(name, rep, nc);
    f.logical = lks_pq_lt(kind);
    return f;
}
static lks_pq_field L(const char *name, int rep, int type) {
    lks_pq_field f = {name, rep, type, 0, lks_pq_lt(LKS_PQ_LT_NONE), -1, 0};
    return f;
}
static lks_pq_field LT(const char *name, int rep, int type, int len, lks_pq_logical lt) {
    lks_pq_field f = {name, rep, type, len, lt, -1, 0};
    return f;
}
static lks_pq_logical INTEGER(int bw, int is_signed) {
    lks_pq_logical lt = lks_pq_lt(LKS_PQ_LT_INTEGER);
    lt.bit_width = (uint8_t)bw;
    lt.is_signed = (uint8_t)is_signed;
    return lt;
}
static lks_pq_logical TIME(int unit) {
    lks_pq_logical lt = lks_pq_lt(LKS_PQ_LT_TIME);
    lt.unit = (uint8_t)unit;
    return lt;
}

#define NF(a) ((int)(sizeof(a) / sizeof((a)[0])))
enum { REQ = LKS_PQ_REQUIRED, OPT = LKS_PQ_OPTIONAL, REP = LKS_PQ_REPEATED };

/* ---- schema build -------------------------------------------------------- */

static void t_flat(void) {
    lks_pq_field f[] = {
        G("schema", REQ, 3),
        L("id", REQ, LKS_PQ_INT64),
        LT("name", OPT, LKS_PQ_BYTE_ARRAY, 0, lks_pq_lt(LKS_PQ_LT_STRING)),
        L("tags", REP, LKS_PQ_INT32),
    };
    lks_pq_schema *s;
    lks_err err;
    CHECK_OK(lks_pq_schema_build(f, NF(f), &s, &err), &err);
    REQUIRE(s);
    CHECK_EQ_INT(s->num_fields, 4);
    CHECK_EQ_INT(s->num_cols, 3);
    CHECK_EQ_STR(s->cols[0].path, "id");
    CHECK_EQ_STR(s->cols[1].path, "name");
    CHECK_EQ_STR(s->cols[2].path, "tags");
    CHECK_EQ_INT(s->cols[0].max_def, 0);
    CHECK_EQ_INT(s->cols[1].max_def, 1);
    CHECK_EQ_INT(s->cols[2].max_def, 1);
    CHECK_EQ_INT(s->cols[0].max_rep, 0);
    CHECK_EQ_INT(s->cols[1].max_rep, 0);
    CHECK_EQ_INT(s->cols[2].max_rep, 1);
    CHECK_EQ_INT(s->cols[1].logical.kind, LKS_PQ_LT_STRING);
    CHECK_EQ_INT(s->cols[2].field, 3);
    CHECK_EQ_INT(s->parent[0], -1);
    CHECK_EQ_INT(s->parent[3], 0);
    CHECK_EQ_INT(s->leaf[0], -1);
    CHECK_EQ_INT(s->leaf[2], 1);
    CHECK_EQ_INT(lks_pq_schema_find(s, "name"), 1);
    CHECK_EQ_INT(lks_pq_schema_find(s, "nope"), -1);
    CHECK_EQ_INT(lks_pq_schema_find(s, NULL), -1);
    /* the schema owns copies of the names */
    CHECK(s->fields[1].name != f[1].name);
    CHECK_EQ_STR(s->fields[1].name, "id");
    lks_pq_schema_free(s);
    lks_pq_schema_free(NULL);
}

/* s: struct {a, b: struct {c}}, l: list<int64>, m: map<string, int32>,
 * t: repeated int32, ll: list<list<int32>> */
static const lks_pq_field nested[] = {
    {"schema", REQ, -1, 0, {0}, -1, 5},
    {"s", OPT, -1, 0, {0}, -1, 2},
    {"a", REQ, LKS_PQ_INT32, 0, {0}, -1, 0},
    {"b", OPT, -1, 0, {0}, -1, 1},
    {"c", OPT, LKS_PQ_DOUBLE, 0, {0}, -1, 0},
    {"l", OPT, -1, 0, {.kind = LKS_PQ_LT_LIST}, -1, 1},
    {"list", REP, -1, 0, {0}, -1, 1},
    {"element", OPT, LKS_PQ_INT64, 0, {0}, -1, 0},
    {"m", OPT, -1, 0, {.kind = LKS_PQ_LT_MAP}, -1, 1},
    {"key_value", REP, -1, 0, {0}, -1, 2},
    {"key", REQ, LKS_PQ_BYTE_ARRAY, 0, {.kind = LKS_PQ_LT_STRING}, -1, 0},
    {"value", OPT, LKS_PQ_INT32, 0, {0}, -1, 0},
    {"t", REP, LKS_PQ_INT32, 0, {0}, -1, 0},
    {"ll", REQ, -1, 0, {.kind = LKS_PQ_LT_LIST}, -1, 1},
    {"list", REP, -1, 0, {0}, -1, 1},
    {"element", REQ, -1, 0, {.kind = LKS_PQ_LT_LIST}, -1, 1},
    {"list", REP, -1, 0, {0}, -1, 1},
    {"element", REQ, LKS_PQ_INT32, 0, {0}, -1, 0},
};

static void t_nested(void) {
    lks_pq_schema *s;
    lks_err err;
    CHECK_OK(lks_pq_schema_build(nested, NF(nested), &s, &err), &err);
    REQUIRE(s);
    static const struct {
        const char *path;
        int def, rep;
    } want[] = {
        {"s.a", 1, 0},
        {"s.b.c", 3, 0},
        {"l.list.element", 3, 1},
        {"m.key_value.key", 2, 1},
        {"m.key_value.value", 3, 1},
        {"t", 1, 1},
        {"ll.list.element.list.element", 2, 2},
    };
    REQUIRE(s->num_cols == NF(want));
    for (int k = 0; k < NF(want); k++) {
        CHECK_EQ_STR(s->cols[k].path, want[k].path);
        CHECK_EQ_INT(s->cols[k].max_def, want[k].def);
        CHECK_EQ_INT(s->cols[k].max_rep, want[k].rep);
        CHECK_EQ_INT(lks_pq_schema_find(s, want[k].path), k);
    }
    CHECK_EQ_INT(s->parent[4], 3);
    CHECK_EQ_INT(s->parent[5], 0);
    CHECK_EQ_INT(s->parent[11], 9);
    CHECK_EQ_INT(s->parent[12], 0);
    CHECK_EQ_INT(s->cols[3].logical.kind, LKS_PQ_LT_STRING);
    lks_pq_schema_free(s);
}

/* Builds fields and expects LKS_EINVAL with every `want` substring. */
static void expect_invalid(const lks_pq_field *f, int n, const char *want1, const char *want2, int line) {
    lks_pq_schema *s = (lks_pq_schema *)1;
    lks_err err;
    lks_err_clear(&err);
    int rc = lks_pq_schema_build(f, n, &s, &err);
    if (rc != LKS_EINVAL || s != NULL || err.code != LKS_EINVAL)
        FAILF("line %d: expected LKS_EINVAL, got %d (%s)", line, rc, err.msg);
    else if ((want1 && !strstr(err.msg, want1)) || (want2 && !strstr(err.msg, want2)))
        FAILF("line %d: message \"%s\" lacks \"%s\" / \"%s\"", line, err.msg, want1, want2 ? want2 : "");
    if (rc == LKS_OK)
        lks_pq_schema_free(s);
}
#define BAD(arr, w1, w2) expect_invalid(arr, NF(arr), w1, w2, __LINE__)

static void expect_valid(const lks_pq_field *f, int n, int line) {
    lks_pq_schema *s = NULL;
    lks_err err;
    lks_err_clear(&err);
    int rc = lks_pq_schema_build(f, n, &s, &err);
    if (rc != LKS_OK)
        FAILF("line %d: expected a valid schema, got %d (%s)", line, rc, err.msg);
    lks_pq_schema_free(s);
}
#define GOOD(arr) expect_valid(arr, NF(arr), __LINE__)

static void t_invalid(void) {
    {
        lks_pq_field f[] = {L("schema", REQ, LKS_PQ_INT32)};
        BAD(f, "'(root)'", "must be a group");
    }
    {
        lks_pq_field f[] = {G("schema", REQ, 3), L("a", REQ, LKS_PQ_INT32), L("b", REQ, LKS_PQ_INT32)};
        BAD(f, "'(root)'", "declares 3 children");
    }
    {
        lks_pq_field f[] = {G("schema", REQ, 1), G("s", OPT, 2), L("a", REQ, LKS_PQ_INT32)};
        BAD(f, "'s'", "declares 2 children");
    }
    {
        lks_pq_field f[] = {G("schema", REQ, 1), L("a", REQ, LKS_PQ_INT32), L("b", REQ, LKS_PQ_INT32)};
        BAD(f, "'b'", "outside the tree");
    }
    {
        lks_pq_field f[] = {G("schema", REQ, 1), G("s", OPT, 1), L("", REQ, LKS_PQ_INT32)};
        BAD(f, "'s.'", "empty name");
    }
    {
        lks_pq_field f[] = {G("schema", REQ, 1), G("s", OPT, 1), L(NULL, REQ, LKS_PQ_INT32)};
        BAD(f, "'s.?'", "no name");
    }
    {
        lks_pq_field f[] = {G("schema", REQ, 1), G("s", OPT, 1), L("f", REQ, LKS_PQ_FIXED_LEN_BYTE_ARRAY)};
        BAD(f, "'s.f'", "type_length > 0");
    }
    {
        lks_pq_field f[] = {G("schema", REQ, 1), L("x", REQ, 9)};
        BAD(f, "'x'", "invalid physical type 9");
    }
    {
        lks_pq_field f[] = {G("schema", REQ, 1), L("x", 5, LKS_PQ_INT32)};
        BAD(f, "'x'", "invalid repetition 5");
    }
    {
        lks_pq_field f[] = {G("schema", REQ, 1), G("g", OPT, 0)};
        BAD(f, "'g'", "at least one child");
    }
    {
        lks_pq_field f[] = {G("schema", REQ, 1), L("x", REQ, LKS_PQ_INT32)};
        f[1].num_children = 2;
        BAD(f, "'x'", "cannot have children");
    }
    {
        lks_pq_field f[] = {G("schema", REQ, 1), LT("x", REQ, LKS_PQ_INT32, 0, lks_pq_lt(LKS_PQ_LT_STRING))};
        BAD(f, "'x'", "STRING annotation does not fit INT32");
    }
    {
        lks_pq_field f[] = {G("schema", REQ, 1), LT("x", REQ, LKS_PQ_INT64, 0, lks_pq_lt(LKS_PQ_LT_DATE))};
        BAD(f, "'x'", "DATE annotation does not fit INT64");
    }
    {
        lks_pq_field f[] = {G("schema", REQ, 1), LT("x", REQ, LKS_PQ_INT32, 0, lks_pq_lt(LKS_PQ_LT_TIMESTAMP))};
        BAD(f, "'x'", "TIMESTAMP annotation does not fit INT32");
    }
    {
        lks_pq_field f[] = {G("schema", REQ, 1), LT("x", REQ, LKS_PQ_INT64, 0, lks_pq_lt_timestamp(7, 1))};
        BAD(f, "'x'", "TIMESTAMP needs a unit");
    }
    {
        lks_pq_field f[] = {G("schema", REQ, 1), LT("x", REQ, LKS_PQ_INT32, 0, lks_pq_lt_decimal(10, 2))};
        BAD(f, "'x'", "precision 10 does not fit INT32");
    }
    {
        lks_pq_field f[] = {G("schema", REQ, 1), LT("x", REQ, LKS_PQ_INT64, 0, lks_pq_lt_decimal(19, 2))};
        BAD(f, "'x'", "precision 19 does not fit INT64");
    }
    {
        lks_pq_field f[] = {G("schema", REQ, 1),
                            LT("x", REQ, LKS_PQ_FIXED_LEN_BYTE_ARRAY, 16, lks_pq_lt_decimal(39, 0))};
        BAD(f, "'x'", "at most 38 digits");
        f[1].logical = lks_pq_lt_decimal(38, 10);
        GOOD(f);
        f[1].type_length = 5;
        f[1].logical = lks_pq_lt_decimal(11, 0);
        GOOD(f);
        f[1].logical = lks_pq_lt_decimal(12, 0);
        BAD(f, "'x'", "FIXED_LEN_BYTE_ARRAY(5)");
    }
    {
        lks_pq_field f[] = {G("schema", REQ, 1), LT("x", REQ, LKS_PQ_BYTE_ARRAY, 0, lks_pq_lt_decimal(5, 6))};
        BAD(f, "'x'", "0 <= scale <= precision");
        f[1].logical = lks_pq_lt_decimal(0, 0);
        BAD(f, "'x'", "precision >= 1");
        f[1].logical = lks_pq_lt_decimal(5, -1);
        BAD(f, "'x'", "0 <= scale");
        f[1].logical = lks_pq_lt_decimal(60, 6);
        GOOD(f);
        f[1].type = LKS_PQ_DOUBLE;
        BAD(f, "'x'", "DECIMAL annotation does not fit DOUBLE");
    }
    {
        lks_pq_field f[] = {G("schema", REQ, 1),
                            LT("u", REQ, LKS_PQ_FIXED_LEN_BYTE_ARRAY, 8, lks_pq_lt(LKS_PQ_LT_UUID))};
        BAD(f, "'u'", "UUID needs FIXED_LEN_BYTE_ARRAY(16)");
        f[1].type_length = 16;
        GOOD(f);
        f[1].logical = lks_pq_lt(LKS_PQ_LT_FLOAT16);
        BAD(f, "'u'", "FLOAT16 needs FIXED_LEN_BYTE_ARRAY(2)");
        f[1].type_length = 2;
        GOOD(f);
    }
    {
        lks_pq_field f[] = {G("schema", REQ, 1), LT("t", REQ, LKS_PQ_INT64, 0, TIME(LKS_PQ_UNIT_MILLIS))};
        BAD(f, "'t'", "TIME unit 1 does not fit INT64");
        f[1].logical = TIME(LKS_PQ_UNIT_NANOS);
        GOOD(f);
        f[1].type = LKS_PQ_INT32;
        BAD(f, "'t'", "TIME unit 3 does not fit INT32");
        f[1].logical = TIME(LKS_PQ_UNIT_MILLIS);
        GOOD(f);
    }
    {
        lks_pq_field f[] = {G("schema", REQ, 1), LT("i", REQ, LKS_PQ_INT32, 0, INTEGER(64, 1))};
        BAD(f, "'i'", "INTEGER(64) needs INT64");
        f[1].logical = INTEGER(12, 1);
        BAD(f, "'i'", "bit width");
        f[1].logical = INTEGER(16, 0);
        GOOD(f);
    }
    {
        lks_pq_field f[] = {G("schema", REQ, 1), LT("v", REQ, LKS_PQ_BYTE_ARRAY, 0, lks_pq_lt(LKS_PQ_LT_VARIANT))};
        BAD(f, "'v'", "VARIANT");
    }
    {
        /* LIST whose repeated child is a leaf (two-level): refused on write */
        lks_pq_field f[] = {G("schema", REQ, 1), GL("l", OPT, 1, LKS_PQ_LT_LIST), L("element", REP, LKS_PQ_INT32)};
        BAD(f, "'l.element'", "repeated group with one child");
    }
    {
        lks_pq_field f[] = {G("schema", REQ, 1), GL("l", REP, 1, LKS_PQ_LT_LIST), G("list", REP, 1),
                            L("element", OPT, LKS_PQ_INT32)};
        BAD(f, "'l'", "LIST group must be required or optional");
        f[1].repetition = OPT;
        f[3].repetition = REP;
        BAD(f, "'l.list.element'", "LIST element must be required or optional");
        f[3].repetition = OPT;
        GOOD(f);
        f[1].type = LKS_PQ_INT32;
        f[1].num_children = 0;
        BAD(f, "'list'", "outside the tree");
    }
    {
        lks_pq_field f[] = {G("schema", REQ, 1), GL("m", OPT, 1, LKS_PQ_LT_MAP), G("key_value", REP, 2),
                            L("key", OPT, LKS_PQ_INT32), L("value", OPT, LKS_PQ_INT32)};
        BAD(f, "'m.key_value.key'", "MAP key must be required");
        f[3].repetition = REQ;
        GOOD(f);
        f[4].repetition = REP;
        BAD(f, "'m.key_value.value'", "MAP value must be required or optional");
        f[4].repetition = OPT;
        f[2].repetition = OPT;
        BAD(f, "'m.key_value'", "repeated group of a key");
    }
    {
        lks_pq_field f[] = {G("schema", REQ, 1), LT("x", REQ, LKS_PQ_INT32, 0, lks_pq_lt(LKS_PQ_LT_MAP))};
        BAD(f, "'x'", "MAP annotation needs a group");
    }
    {
        /* depth: 64 nested groups hold a leaf at depth 65 */
        lks_pq_field f[LKS_PQ_MAX_DEPTH + 2];
        f[0] = G("schema", REQ, 1);
        for (int i = 1; i <= LKS_PQ_MAX_DEPTH; i++)
            f[i] = G("g", OPT, 1);
        f[LKS_PQ_MAX_DEPTH + 1] = L("x", OPT, LKS_PQ_INT32);
        BAD(f, "deeper than 64", "'g.g.g");
        /* 63 groups + the leaf: fine, max_def 64 */
        f[LKS_PQ_MAX_DEPTH] = L("x", OPT, LKS_PQ_INT32);
        lks_pq_schema *s;
        lks_err err;
        CHECK_OK(lks_pq_schema_build(f, LKS_PQ_MAX_DEPTH + 1, &s, &err), &err);
        if (s) {
            CHECK_EQ_INT(s->cols[0].max_def, 64);
            lks_pq_schema_free(s);
        }
    }
    {
        lks_pq_field f[] = {GL("schema", REQ, 1, LKS_PQ_LT_LIST), L("x", REQ, LKS_PQ_INT32)};
        BAD(f, "'(root)'", "logical type");
    }
    lks_pq_schema *s = (lks_pq_schema *)1;
    lks_err err;
    CHECK_EQ_INT(lks_pq_schema_build(NULL, 0, &s, &err), LKS_EINVAL);
    CHECK(s == NULL);
    /* an empty root is a schema without columns */
    lks_pq_field root = G("schema", REQ, 0);
    CHECK_OK(lks_pq_schema_build(&root, 1, &s, &err), &err);
    if (s) {
        CHECK_EQ_INT(s->num_cols, 0);
        lks_pq_schema_free(s);
    }
}

/* ---- schema from a footer ---------------------------------------------- */

static lks_pq_schema_elem E(const char *name, int rep, int type, int nc, int ct) {
    lks_pq_schema_elem e;
    memset(&e, 0, sizeof e);
    e.name = name;
    e.repetition = rep;
    e.type = type;
    e.num_children = nc;
    e.converted_type = ct;
    return e;
}

static void t_from_meta(void) {
    lks_pq_schema_elem e[] = {
        E("spark_schema", -1, -1, 13, -1),
        E("s", OPT, LKS_PQ_BYTE_ARRAY, 0, LKS_PQ_CT_UTF8),
        E("d", OPT, LKS_PQ_INT32, 0, LKS_PQ_CT_DECIMAL),
        E("dt", OPT, LKS_PQ_INT32, 0, LKS_PQ_CT_DATE),
        E("ts", OPT, LKS_PQ_INT64, 0, LKS_PQ_CT_TIMESTAMP_MILLIS),
        E("tm", OPT, LKS_PQ_INT64, 0, LKS_PQ_CT_TIME_MICROS),
        E("u", OPT, LKS_PQ_INT32, 0, LKS_PQ_CT_UINT_16),
        E("i", OPT, LKS_PQ_INT64, 0, LKS_PQ_CT_INT_64),
        E("j", OPT, LKS_PQ_BYTE_ARRAY, 0, LKS_PQ_CT_JSON),
        E("en", OPT, LKS_PQ_BYTE_ARRAY, 0, LKS_PQ_CT_ENUM),
        /* legacy two-level list */
        E("l", OPT, -1, 1, LKS_PQ_CT_LIST),
        E("array", REP, LKS_PQ_INT32, 0, -1),
        /* old map: MAP_KEY_VALUE on the outer group */
        E("m", OPT, -1, 1, LKS_PQ_CT_MAP_KEY_VALUE),
        E("map", REP, -1, 2, LKS_PQ_CT_MAP_KEY_VALUE),
        E("key", REQ, LKS_PQ_BYTE_ARRAY, 0, LKS_PQ_CT_UTF8),
        E("value", OPT, LKS_PQ_INT32, 0, -1),
        /* annotations that do not fit are kept for the reader to judge */
        E("odd", OPT, LKS_PQ_INT32, 0, LKS_PQ_CT_UTF8),
        /* a logical type wins over the converted type */
        E("ts2", OPT, LKS_PQ_INT64, 0, LKS_PQ_CT_TIMESTAMP_MILLIS),
    };
    e[2].precision = 9, e[2].scale = 2;
    e[17].logical = lks_pq_lt_timestamp(LKS_PQ_UNIT_NANOS, 0);
    e[4].has_field_id = 1, e[4].field_id = 7;
    lks_pq_schema *s;
    lks_err err;
    CHECK_OK(lks_pq_schema_from_meta(e, NF(e), &s, &err), &err);
    REQUIRE(s);
    REQUIRE(s->num_cols == 14);
    CHECK_EQ_INT(s->cols[0].logical.kind, LKS_PQ_LT_STRING);
    CHECK_EQ_INT(s->cols[1].logical.kind, LKS_PQ_LT_DECIMAL);
    CHECK_EQ_INT(s->cols[1].logical.precision, 9);
    CHECK_EQ_INT(s->cols[1].logical.scale, 2);
    CHECK_EQ_INT(s->cols[2].logical.kind, LKS_PQ_LT_DATE);
    CHECK_EQ_INT(s->cols[3].logical.kind, LKS_PQ_LT_TIMESTAMP);
    CHECK_EQ_INT(s->cols[3].logical.unit, LKS_PQ_UNIT_MILLIS);
    CHECK_EQ_INT(s->cols[3].logical.utc, 1);
    CHECK_EQ_INT(s->fields[4].field_id, 7);
    CHECK_EQ_INT(s->fields[3].field_id, -1);
    CHECK_EQ_INT(s->cols[4].logical.kind, LKS_PQ_LT_TIME);
    CHECK_EQ_INT(s->cols[4].logical.unit, LKS_PQ_UNIT_MICROS);
    CHECK_EQ_INT(s->cols[5].logical.kind, LKS_PQ_LT_INTEGER);
    CHECK_EQ_INT(s->cols[5].logical.bit_width, 16);
    CHECK_EQ_INT(s->cols[5].logical.is_signed, 0);
    CHECK_EQ_INT(s->cols[6].logical.bit_width, 64);
    CHECK_EQ_INT(s->cols[6].logical.is_signed, 1);
    CHECK_EQ_INT(s->cols[7].logical.kind, LKS_PQ_LT_JSON);
    CHECK_EQ_INT(s->cols[8].logical.kind, LKS_PQ_LT_ENUM);
    CHECK_EQ_STR(s->cols[9].path, "l.array");
    CHECK_EQ_INT(s->cols[9].max_def, 2);
    CHECK_EQ_INT(s->cols[9].max_rep, 1);
    CHECK_EQ_INT(s->fields[10].logical.kind, LKS_PQ_LT_LIST);
    CHECK_EQ_INT(s->fields[12].logical.kind, LKS_PQ_LT_MAP);
    CHECK_EQ_INT(s->fields[13].logical.kind, LKS_PQ_LT_NONE);
    CHECK_EQ_STR(s->cols[11].path, "m.map.value");
    CHECK_EQ_INT(s->cols[11].max_def, 3);
    CHECK_EQ_INT(s->cols[12].logical.kind, LKS_PQ_LT_STRING);
    CHECK_EQ_INT(s->cols[13].logical.unit, LKS_PQ_UNIT_NANOS);
    CHECK_EQ_INT(s->cols[13].logical.utc, 0);
    CHECK_EQ_INT(s->fields[0].type, -1);
    lks_pq_schema_free(s);
}

static void expect_corrupt(const lks_pq_schema_elem *e, int n, const char *want1, const char *want2, int line) {
    lks_pq_schema *s = (lks_pq_schema *)1;
    lks_err err;
    lks_err_clear(&err);
    int rc = lks_pq_schema_from_meta(e, n, &s, &err);
    if (rc != LKS_ECORRUPT || s != NULL)
        FAILF("line %d: expected LKS_ECORRUPT, got %d (%s)", line, rc, err.msg);
    else if ((want1 && !strstr(err.msg, want1)) || (want2 && !strstr(err.msg, want2)))
        FAILF("line %d: message \"%s\" lacks \"%s\" / \"%s\"", line, err.msg, want1, want2 ? want2 : "");
    if (rc == LKS_OK)
        lks_pq_schema_free(s);
}
#define CORRUPT(arr, w1, w2) expect_corrupt(arr, NF(arr), w1, w2, __LINE__)

static void t_from_meta_corrupt(void) {
    {
        lks_pq_schema_elem e[] = {E("r", -1, -1, 3, -1), E("a", OPT, LKS_PQ_INT32, 0, -1)};
        CORRUPT(e, "schema element 0", "declares 3 children");
    }
    {
        lks_pq_schema_elem e[] = {E("r", -1, -1, 2, -1), E("a", OPT, LKS_PQ_INT32, 0, -1),
                                  E("b", OPT, -1, 0, -1)};
        CORRUPT(e, "schema element 2 ('b')", "without a physical type");
    }
    {
        lks_pq_schema_elem e[] = {E("r", -1, -1, 1, -1), E("a", OPT, LKS_PQ_INT32, 0, -1),
                                  E("b", OPT, LKS_PQ_INT32, 0, -1)};
        CORRUPT(e, "schema element 2", "outside the tree");
    }
    {
        lks_pq_schema_elem e[] = {E("r", -1, -1, 1, -1), E("a", -1, LKS_PQ_INT32, 0, -1)};
        CORRUPT(e, "schema element 1 ('a')", "missing repetition");
    }
    {
        lks_pq_schema_elem e[] = {E("r", -1, -1, 1, -1), E("f", OPT, LKS_PQ_FIXED_LEN_BYTE_ARRAY, 0, -1)};
        CORRUPT(e, "schema element 1", "type_length");
    }
    {
        lks_pq_schema_elem e[] = {E("r", -1, -1, 1, -1), E("a", OPT, 12, 0, -1)};
        CORRUPT(e, "schema element 1", "invalid physical type 12");
    }
    {
        lks_pq_schema_elem e[] = {E("r", -1, -1, 1, -1), E(NULL, OPT, LKS_PQ_INT32, 0, -1)};
        CORRUPT(e, "schema element 1", "no name");
    }
    {
        lks_pq_schema_elem e[] = {E("r", -1, -1, -4, -1)};
        CORRUPT(e, "schema element 0", "negative num_children");
    }
    {
        lks_pq_schema_elem e[] = {E("r", -1, LKS_PQ_INT32, 0, -1)};
        CORRUPT(e, "schema element 0", "root must be a group");
    }
    {
        lks_pq_schema_elem e[LKS_PQ_MAX_DEPTH + 2];
        e[0] = E("r", -1, -1, 1, -1);
        for (int i = 1; i <= LKS_PQ_MAX_DEPTH; i++)
            e[i] = E("g", OPT, -1, 1, -1);
        e[LKS_PQ_MAX_DEPTH + 1] = E("x", OPT, LKS_PQ_INT32, 0, -1);
        CORRUPT(e, "schema element 65", "deeper than 64");
    }
    {
        /* a huge num_children is checked against the array, not allocated */
        lks_pq_schema_elem e[] = {E("r", -1, -1, 2000000000, -1), E("a", OPT, LKS_PQ_INT32, 0, -1)};
        CORRUPT(e, "schema element 0", "declares 2000000000 children");
    }
    lks_pq_schema *s = (lks_pq_schema *)1;
    lks_err err;
    CHECK_EQ_INT(lks_pq_schema_from_meta(NULL, 0, &s, &err), LKS_ECORRUPT);
    CHECK(s == NULL);
    /* too many columns */
    int n = LKS_PQ_MAX_COLUMNS + 2;
    lks_pq_schema_elem *many = calloc((size_t)n, sizeof *many);
    REQUIRE(many);
    many[0] = E("r", -1, -1, n - 1, -1);
    for (int i = 1; i < n; i++)
        many[i] = E("c", OPT, LKS_PQ_INT32, 0, -1);
    CHECK_EQ_INT(lks_pq_schema_from_meta(many, n, &s, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "more than 100000 columns") != NULL);
    /* exactly the cap is fine */
    many[0].num_children = n - 2;
    CHECK_OK(lks_pq_schema_from_meta(many, n - 1, &s, &err), &err);
    if (s) {
        CHECK_EQ_INT(s->num_cols, LKS_PQ_MAX_COLUMNS);
        CHECK_EQ_INT(lks_pq_schema_find(s, "c"), 0);
        lks_pq_schema_free(s);
    }
    free(many);
}

/* ---- values as JSON ------------------------------------------------------ */

static char jbuf[4096];

/* JSON of value v for field f, or "<error N>". */
static const char *js(const lks_pq_schema *s, int f, const lks_pq_value *v) {
    lks_buf b;
    lks_buf_init(&b, 0);
    int rc = lks_pq_value_to_json(&b, s, f, v);
    if (rc)
        snprintf(jbuf, sizeof jbuf, "<error %d>", rc);
    else
        snprintf(jbuf, sizeof jbuf, "%.*s", (int)b.len, (const char *)b.ptr);
    lks_buf_free(&b);
    return jbuf;
}

/* JSON of one value of a single-leaf schema (built leniently, from footer
 * elements, so any annotation goes). */
static const char *one(int type, int len, lks_pq_logical lt, lks_pq_value v) {
    lks_pq_schema_elem e[2] = {E("r", -1, -1, 1, -1), E("x", OPT, type, 0, -1)};
    e[1].type_length = len;
    e[1].logical = lt;
    lks_pq_schema *s;
    lks_err err;
    if (lks_pq_schema_from_meta(e, 2, &s, &err) != LKS_OK) {
        snprintf(jbuf, sizeof jbuf, "<schema: %s>", err.msg);
        return jbuf;
    }
    js(s, 1, &v);
    lks_pq_schema_free(s);
    return jbuf;
}

static lks_pq_value VI32(int32_t x) {
    lks_pq_value v = {.kind = LKS_PQ_V_INT32, .u.i32 = x};
    return v;
}
static lks_pq_value VI64(int64_t x) {
    lks_pq_value v = {.kind = LKS_PQ_V_INT64, .u.i64 = x};
    return v;
}
static lks_pq_value VF(float x) {
    lks_pq_value v = {.kind = LKS_PQ_V_FLOAT, .u.f32 = x};
    return v;
}
static lks_pq_value VD(double x) {
    lks_pq_value v = {.kind = LKS_PQ_V_DOUBLE, .u.f64 = x};
    return v;
}
static lks_pq_value VB(const void *p, size_t n) {
    lks_pq_value v = {.kind = LKS_PQ_V_BYTES};
    v.u.bytes.ptr = p;
    v.u.bytes.len = n;
    return v;
}
static lks_pq_value VS(const char *s) { return VB(s, strlen(s)); }
static lks_pq_value V96(uint64_t nanos, uint32_t jd) {
    lks_pq_value v = {.kind = LKS_PQ_V_INT96};
    lks_store_le64(v.u.i96.b, nanos);
    lks_store_le32(v.u.i96.b + 8, jd);
    return v;
}
static lks_pq_value VBOOL(int b) {
    lks_pq_value v = {.kind = LKS_PQ_V_BOOL, .u.b = b};
    return v;
}
static const lks_pq_value VNULL = {.kind = LKS_PQ_V_NULL};

static size_t unhex(uint8_t *out, const char *hex) {
    size_t n = 0;
    for (; hex[0] && hex[1]; hex += 2) {
        unsigned x;
        sscanf(hex, "%2x", &x);
        out[n++] = (uint8_t)x;
    }
    return n;
}

static const lks_pq_logical NONE = {0};

static void t_json_ints(void) {
    CHECK_EQ_STR(one(LKS_PQ_INT32, 0, NONE, VI32(-5)), "-5");
    CHECK_EQ_STR(one(LKS_PQ_INT32, 0, NONE, VI32(INT32_MIN)), "-2147483648");
    CHECK_EQ_STR(one(LKS_PQ_INT64, 0, NONE, VI64(INT64_MIN)), "-9223372036854775808");
    CHECK_EQ_STR(one(LKS_PQ_INT64, 0, NONE, VI64(INT64_MAX)), "9223372036854775807");
    CHECK_EQ_STR(one(LKS_PQ_INT64, 0, INTEGER(64, 0), VI64(-1)), "18446744073709551615");
    CHECK_EQ_STR(one(LKS_PQ_INT64, 0, INTEGER(64, 1), VI64(-1)), "-1");
    CHECK_EQ_STR(one(LKS_PQ_INT32, 0, INTEGER(32, 0), VI32(-1)), "4294967295");
    CHECK_EQ_STR(one(LKS_PQ_INT32, 0, INTEGER(8, 0), VI32(255)), "255");
    CHECK_EQ_STR(one(LKS_PQ_INT32, 0, INTEGER(8, 1), VI32(-128)), "-128");
    CHECK_EQ_STR(one(LKS_PQ_BOOLEAN, 0, NONE, VBOOL(1)), "true");
    CHECK_EQ_STR(one(LKS_PQ_BOOLEAN, 0, NONE, VBOOL(0)), "false");
    CHECK_EQ_STR(one(LKS_PQ_INT64, 0, NONE, VNULL), "null");
    /* an annotation that does not fit prints the physical value */
    CHECK_EQ_STR(one(LKS_PQ_INT32, 0, lks_pq_lt(LKS_PQ_LT_STRING), VI32(7)), "7");
    CHECK_EQ_STR(one(LKS_PQ_INT32, 0, lks_pq_lt_timestamp(LKS_PQ_UNIT_MICROS, 1), VI32(7)), "7");
}

static void t_json_floats(void) {
    CHECK_EQ_STR(one(LKS_PQ_FLOAT, 0, NONE, VF(0.1f)), "0.1");
    CHECK_EQ_STR(one(LKS_PQ_FLOAT, 0, NONE, VF(-2.5f)), "-2.5");
    CHECK_EQ_STR(one(LKS_PQ_FLOAT, 0, NONE, VF(NAN)), "\"NaN\"");
    CHECK_EQ_STR(one(LKS_PQ_FLOAT, 0, NONE, VF(-INFINITY)), "\"-Infinity\"");
    CHECK_EQ_STR(one(LKS_PQ_DOUBLE, 0, NONE, VD(0.1)), "0.1");
    CHECK_EQ_STR(one(LKS_PQ_DOUBLE, 0, NONE, VD(INFINITY)), "\"Infinity\"");
    CHECK_EQ_STR(one(LKS_PQ_DOUBLE, 0, NONE, VD(1e300)), "1e+300");
    CHECK_EQ_STR(one(LKS_PQ_DOUBLE, 0, NONE, VD(0.1f)), "0.10000000149011612");
    lks_pq_logical f16 = lks_pq_lt(LKS_PQ_LT_FLOAT16);
    static const struct {
        const char *le, *want;
    } h[] = {
        {"003c", "1"},          {"00c0", "-2"},           {"007e", "\"NaN\""},   {"007c", "\"Infinity\""},
        {"00fc", "\"-Infinity\""}, {"0100", "5.9604645e-8"}, {"5535", "0.33325195"}, {"ff7b", "65504"},
        {"0080", "-0"},
    };
    for (int k = 0; k < NF(h); k++) {
        uint8_t b[2];
        unhex(b, h[k].le);
        CHECK_EQ_STR(one(LKS_PQ_FIXED_LEN_BYTE_ARRAY, 2, f16, VB(b, 2)), h[k].want);
    }
}

static void t_json_decimals(void) {
    CHECK_EQ_STR(one(LKS_PQ_INT32, 0, lks_pq_lt_decimal(9, 2), VI32(-12345)), "\"-123.45\"");
    CHECK_EQ_STR(one(LKS_PQ_INT32, 0, lks_pq_lt_decimal(9, 2), VI32(40)), "\"0.40\"");
    CHECK_EQ_STR(one(LKS_PQ_INT64, 0, lks_pq_lt_decimal(18, 3), VI64(5)), "\"0.005\"");
    CHECK_EQ_STR(one(LKS_PQ_INT64, 0, lks_pq_lt_decimal(18, 0), VI64(INT64_MIN)), "\"-9223372036854775808\"");
    uint8_t b[40];
    lks_pq_logical d38 = lks_pq_lt_decimal(38, 10);
    unhex(b, "4b3b4ca85a86c47a098a223fffffffff");
    CHECK_EQ_STR(one(LKS_PQ_FIXED_LEN_BYTE_ARRAY, 16, d38, VB(b, 16)), "\"9999999999999999999999999999.9999999999\"");
    unhex(b, "b4c4b357a5793b85f675ddc000000001");
    CHECK_EQ_STR(one(LKS_PQ_FIXED_LEN_BYTE_ARRAY, 16, d38, VB(b, 16)),
                 "\"-9999999999999999999999999999.9999999999\"");
    unhex(b, "fffffffffffffffa9438a1d29ceffffb");
    CHECK_EQ_STR(one(LKS_PQ_FIXED_LEN_BYTE_ARRAY, 16, lks_pq_lt_decimal(38, 0), VB(b, 16)),
                 "\"-100000000000000000005\"");
    lks_pq_logical d2 = lks_pq_lt_decimal(10, 2);
    CHECK_EQ_STR(one(LKS_PQ_BYTE_ARRAY, 0, d2, VB("", 0)), "\"0.00\"");
    CHECK_EQ_STR(one(LKS_PQ_BYTE_ARRAY, 0, lks_pq_lt_decimal(3, 0), VB("\xff", 1)), "\"-1\"");
    CHECK_EQ_STR(one(LKS_PQ_BYTE_ARRAY, 0, lks_pq_lt_decimal(5, 1), VB("\x00\x00\x01\x00", 4)), "\"25.6\"");
    /* 40-byte container, value small: sign extension is dropped */
    memset(b, 0xff, 40);
    b[39] = 0x85; /* -123 */
    CHECK_EQ_STR(one(LKS_PQ_FIXED_LEN_BYTE_ARRAY, 40, d2, VB(b, 40)), "\"-1.23\"");
    /* 33 significant bytes: not supported */
    memset(b, 0, 40);
    b[7] = 0x01;
    CHECK_EQ_STR(one(LKS_PQ_FIXED_LEN_BYTE_ARRAY, 40, d2, VB(b, 40)), "<error -42>");
}

static void t_json_times(void) {
    lks_pq_logical date = lks_pq_lt(LKS_PQ_LT_DATE);
    CHECK_EQ_STR(one(LKS_PQ_INT32, 0, date, VI32(0)), "\"1970-01-01\"");
    CHECK_EQ_STR(one(LKS_PQ_INT32, 0, date, VI32(-1)), "\"1969-12-31\"");
    CHECK_EQ_STR(one(LKS_PQ_INT32, 0, date, VI32(-719528)), "\"0000-01-01\"");
    CHECK_EQ_STR(one(LKS_PQ_INT32, 0, date, VI32(18262)), "\"2020-01-01\"");
    lks_pq_logical us_utc = lks_pq_lt_timestamp(LKS_PQ_UNIT_MICROS, 1);
    CHECK_EQ_STR(one(LKS_PQ_INT64, 0, us_utc, VI64(-1)), "\"1969-12-31T23:59:59.999999Z\"");
    CHECK_EQ_STR(one(LKS_PQ_INT64, 0, us_utc, VI64(1577836800123456)), "\"2020-01-01T00:00:00.123456Z\"");
    CHECK_EQ_STR(one(LKS_PQ_INT64, 0, lks_pq_lt_timestamp(LKS_PQ_UNIT_MICROS, 0), VI64(0)),
                 "\"1970-01-01T00:00:00.000000\"");
    CHECK_EQ_STR(one(LKS_PQ_INT64, 0, lks_pq_lt_timestamp(LKS_PQ_UNIT_MILLIS, 0), VI64(1)),
                 "\"1970-01-01T00:00:00.001000\"");
    CHECK_EQ_STR(one(LKS_PQ_INT64, 0, lks_pq_lt_timestamp(LKS_PQ_UNIT_MILLIS, 1), VI64(-1)),
                 "\"1969-12-31T23:59:59.999000Z\"");
    CHECK_EQ_STR(one(LKS_PQ_INT64, 0, lks_pq_lt_timestamp(LKS_PQ_UNIT_NANOS, 1), VI64(1)),
                 "\"1970-01-01T00:00:00.000000001Z\"");
    CHECK_EQ_STR(one(LKS_PQ_INT64, 0, lks_pq_lt_timestamp(LKS_PQ_UNIT_NANOS, 1), VI64(-1)),
                 "\"1969-12-31T23:59:59.999999999Z\"");
    /* extremes format without overflow */
    const char *t = one(LKS_PQ_INT64, 0, lks_pq_lt_timestamp(LKS_PQ_UNIT_MILLIS, 1), VI64(INT64_MIN));
    CHECK(strncmp(t, "\"-292275055-05-16T16:47:04.192000Z\"", 40) == 0);
    t = one(LKS_PQ_INT64, 0, us_utc, VI64(INT64_MAX));
    CHECK_EQ_STR(t, "\"+294247-01-10T04:00:54.775807Z\"");
    /* INT96: nanoseconds of day + Julian day */
    CHECK_EQ_STR(one(LKS_PQ_INT96, 0, NONE, V96(0, 2440588)), "\"1970-01-01T00:00:00.000000000Z\"");
    CHECK_EQ_STR(one(LKS_PQ_INT96, 0, NONE, V96(1, 2440587)), "\"1969-12-31T00:00:00.000000001Z\"");
    CHECK_EQ_STR(one(LKS_PQ_INT96, 0, NONE, V96(UINT64_C(3661123456789), 2458850)),
                 "\"2020-01-01T01:01:01.123456789Z\"");
    /* nanos past a day carry into the date */
    CHECK_EQ_STR(one(LKS_PQ_INT96, 0, NONE, V96(UINT64_C(86400000000001), 2440588)),
                 "\"1970-01-02T00:00:00.000000001Z\"");
    CHECK_EQ_STR(one(LKS_PQ_INT32, 0, TIME(LKS_PQ_UNIT_MILLIS), VI32(3723004)), "\"01:02:03.004000\"");
    CHECK_EQ_STR(one(LKS_PQ_INT64, 0, TIME(LKS_PQ_UNIT_MICROS), VI64(86399999999)), "\"23:59:59.999999\"");
    CHECK_EQ_STR(one(LKS_PQ_INT64, 0, TIME(LKS_PQ_UNIT_NANOS), VI64(1)), "\"00:00:00.000000001\"");
    CHECK_EQ_STR(one(LKS_PQ_INT64, 0, TIME(LKS_PQ_UNIT_NANOS), VI64(-1)), "\"-00:00:00.000000001\"");
}

static void t_json_bytes(void) {
    CHECK_EQ_STR(one(LKS_PQ_BYTE_ARRAY, 0, lks_pq_lt(LKS_PQ_LT_STRING), VS("a\"b\n")), "\"a\\\"b\\n\"");
    CHECK_EQ_STR(one(LKS_PQ_BYTE_ARRAY, 0, lks_pq_lt(LKS_PQ_LT_JSON), VS("{\"k\":1}")), "\"{\\\"k\\\":1}\"");
    CHECK_EQ_STR(one(LKS_PQ_BYTE_ARRAY, 0, lks_pq_lt(LKS_PQ_LT_ENUM), VS("RED")), "\"RED\"");
    CHECK_EQ_STR(one(LKS_PQ_BYTE_ARRAY, 0, lks_pq_lt(LKS_PQ_LT_STRING), VS("")), "\"\"");
    CHECK_EQ_STR(one(LKS_PQ_BYTE_ARRAY, 0, NONE, VB("\x00\xff", 2)), "\"AP8=\"");
    CHECK_EQ_STR(one(LKS_PQ_BYTE_ARRAY, 0, lks_pq_lt(LKS_PQ_LT_BSON), VB("abc", 3)), "\"YWJj\"");
    CHECK_EQ_STR(one(LKS_PQ_BYTE_ARRAY, 0, NONE, VB(NULL, 0)), "\"\"");
    uint8_t u[16];
    unhex(u, "00112233445566778899AABBCCDDEEFF");
    CHECK_EQ_STR(one(LKS_PQ_FIXED_LEN_BYTE_ARRAY, 16, lks_pq_lt(LKS_PQ_LT_UUID), VB(u, 16)),
                 "\"00112233-4455-6677-8899-aabbccddeeff\"");
    CHECK_EQ_STR(one(LKS_PQ_FIXED_LEN_BYTE_ARRAY, 3, NONE, VB("abc", 3)), "\"YWJj\"");
    /* wrong width for the column, wrong kind: caller bugs */
    CHECK_EQ_STR(one(LKS_PQ_FIXED_LEN_BYTE_ARRAY, 4, NONE, VB("abc", 3)), "<error -2>");
    CHECK_EQ_STR(one(LKS_PQ_INT64, 0, NONE, VI32(1)), "<error -2>");
    CHECK_EQ_STR(one(LKS_PQ_BOOLEAN, 0, NONE, VI32(1)), "<error -2>");
}

/* value builders for trees */
static lks_pq_value VG(lks_pq_value *items, size_t n) {
    lks_pq_value v = {.kind = LKS_PQ_V_GROUP};
    v.u.list.items = items;
    v.u.list.n = n;
    return v;
}
static lks_pq_value VR(lks_pq_value *items, size_t n) {
    lks_pq_value v = {.kind = LKS_PQ_V_REPEATED};
    v.u.list.items = items;
    v.u.list.n = n;
    return v;
}

static void t_json_nested(void) {
    lks_pq_schema *s;
    lks_err err;
    CHECK_OK(lks_pq_schema_build(nested, NF(nested), &s, &err), &err);
    REQUIRE(s);
    /* s */
    lks_pq_value b_items[] = {VD(2.5)};
    lks_pq_value s_items[] = {VI32(1), VG(b_items, 1)};
    /* l: three-level, [1, null, 3] */
    lks_pq_value e1[] = {VI64(1)}, e2[] = {VNULL}, e3[] = {VI64(3)};
    lks_pq_value l_reps[] = {VG(e1, 1), VG(e2, 1), VG(e3, 1)};
    lks_pq_value l_items[] = {VR(l_reps, 3)};
    /* m: {"k1": 1, "k2": null} */
    lks_pq_value kv1[] = {VS("k1"), VI32(1)}, kv2[] = {VS("k2"), VNULL};
    lks_pq_value m_reps[] = {VG(kv1, 2), VG(kv2, 2)};
    lks_pq_value m_items[] = {VR(m_reps, 2)};
    /* t: [4, 5] */
    lks_pq_value t_reps[] = {VI32(4), VI32(5)};
    /* ll: [[1, 2], []] */
    lks_pq_value in1a[] = {VI32(1)}, in1b[] = {VI32(2)};
    lks_pq_value in1_reps[] = {VG(in1a, 1), VG(in1b, 1)};
    lks_pq_value in1[] = {VR(in1_reps, 2)};
    lks_pq_value in2[] = {VR(NULL, 0)};
    lks_pq_value o1[] = {VG(in1, 1)}, o2[] = {VG(in2, 1)};
    lks_pq_value ll_reps[] = {VG(o1, 1), VG(o2, 1)};
    lks_pq_value ll_items[] = {VR(ll_reps, 2)};

    lks_pq_value row_items[] = {VG(s_items, 2), VG(l_items, 1), VG(m_items, 1), VR(t_reps, 2), VG(ll_items, 1)};
    lks_pq_value row = VG(row_items, 5);
    CHECK_EQ_STR(js(s, 0, &row), "{\"s\":{\"a\":1,\"b\":{\"c\":2.5}},\"l\":[1,null,3],\"m\":{\"k1\":1,\"k2\":null},"
                                 "\"t\":[4,5],\"ll\":[[1,2],[]]}");
    /* nulls and empties */
    lks_pq_value empty_l[] = {VR(NULL, 0)};
    lks_pq_value null_rep[] = {VNULL};
    lks_pq_value row2_items[] = {VNULL, VG(empty_l, 1), VG(null_rep, 1), VR(NULL, 0), VG(ll_items, 1)};
    lks_pq_value row2 = VG(row2_items, 5);
    CHECK_EQ_STR(js(s, 0, &row2), "{\"s\":null,\"l\":[],\"m\":{},\"t\":[],\"ll\":[[1,2],[]]}");
    /* a field alone */
    CHECK_EQ_STR(js(s, 1, &row_items[0]), "{\"a\":1,\"b\":{\"c\":2.5}}");
    CHECK_EQ_STR(js(s, 12, &row_items[3]), "[4,5]");
    CHECK_EQ_STR(js(s, 12, &VNULL), "null");
    /* errors leave the buffer as it was */
    lks_buf b;
    lks_buf_init(&b, 0);
    lks_buf_append(&b, "prefix", 6);
    lks_pq_value bad_items[] = {VG(s_items, 2), VG(l_items, 1)};
    lks_pq_value bad = VG(bad_items, 2); /* root has 5 children */
    CHECK_EQ_INT(lks_pq_value_to_json(&b, s, 0, &bad), LKS_EINVAL);
    CHECK_EQ_INT(b.len, 6);
    lks_pq_value bad_s[] = {VI32(1), VI64(7)}; /* b must be a group */
    lks_pq_value bad_row_items[] = {VG(bad_s, 2), VG(l_items, 1), VG(m_items, 1), VR(t_reps, 2), VG(ll_items, 1)};
    bad = VG(bad_row_items, 5);
    CHECK_EQ_INT(lks_pq_value_to_json(&b, s, 0, &bad), LKS_EINVAL);
    CHECK_EQ_INT(b.len, 6);
    bad_row_items[0] = VG(s_items, 2);
    bad_row_items[3] = VI32(4); /* a repeated field needs the REPEATED wrapper */
    CHECK_EQ_INT(lks_pq_value_to_json(&b, s, 0, &bad), LKS_EINVAL);
    CHECK_EQ_INT(b.len, 6);
    CHECK_EQ_INT(lks_pq_value_to_json(&b, s, 99, &row), LKS_EINVAL);
    CHECK_EQ_INT(lks_pq_value_to_json(&b, s, 0, &row), LKS_OK);
    CHECK(b.len > 6 && memcmp(b.ptr, "prefix{\"s\":", 11) == 0);
    lks_buf_free(&b);
    lks_pq_schema_free(s);
}

static void t_json_legacy_shapes(void) {
    lks_pq_schema_elem e[] = {
        E("r", -1, -1, 5, -1),
        /* two-level list of int32 */
        E("a", OPT, -1, 1, LKS_PQ_CT_LIST),
        E("array", REP, LKS_PQ_INT32, 0, -1),
        /* two-level list of structs (the repeated group has two fields) */
        E("b", OPT, -1, 1, LKS_PQ_CT_LIST),
        E("item", REP, -1, 2, -1),
        E("x", REQ, LKS_PQ_INT32, 0, -1),
        E("y", OPT, LKS_PQ_BYTE_ARRAY, 0, LKS_PQ_CT_UTF8),
        /* "<name>_tuple": a one-field struct element */
        E("c", OPT, -1, 1, LKS_PQ_CT_LIST),
        E("c_tuple", REP, -1, 1, -1),
        E("z", REQ, LKS_PQ_INT32, 0, -1),
        /* map with int keys and no values; a repeated group not annotated */
        E("m", OPT, -1, 1, LKS_PQ_CT_MAP),
        E("key_value", REP, -1, 1, LKS_PQ_CT_MAP_KEY_VALUE),
        E("key", REQ, LKS_PQ_INT32, 0, -1),
        E("g", REP, -1, 1, -1),
        E("w", OPT, LKS_PQ_INT32, 0, -1),
    };
    lks_pq_schema *s;
    lks_err err;
    CHECK_OK(lks_pq_schema_from_meta(e, NF(e), &s, &err), &err);
    REQUIRE(s);
    lks_pq_value a_reps[] = {VI32(1), VI32(2)};
    lks_pq_value a_items[] = {VR(a_reps, 2)};
    lks_pq_value b1[] = {VI32(1), VS("p")}, b2[] = {VI32(2), VNULL};
    lks_pq_value b_reps[] = {VG(b1, 2), VG(b2, 2)};
    lks_pq_value b_items[] = {VR(b_reps, 2)};
    lks_pq_value c1[] = {VI32(9)};
    lks_pq_value c_reps[] = {VG(c1, 1)};
    lks_pq_value c_items[] = {VR(c_reps, 1)};
    lks_pq_value k1[] = {VI32(7)}, k2[] = {VI32(-1)};
    lks_pq_value m_reps[] = {VG(k1, 1), VG(k2, 1)};
    lks_pq_value m_items[] = {VR(m_reps, 2)};
    lks_pq_value g1[] = {VI32(3)}, g2[] = {VNULL};
    lks_pq_value g_reps[] = {VG(g1, 1), VG(g2, 1)};
    lks_pq_value row_items[] = {VG(a_items, 1), VG(b_items, 1), VG(c_items, 1), VG(m_items, 1), VR(g_reps, 2)};
    lks_pq_value row = VG(row_items, 5);
    CHECK_EQ_STR(js(s, 0, &row), "{\"a\":[1,2],\"b\":[{\"x\":1,\"y\":\"p\"},{\"x\":2,\"y\":null}],\"c\":[{\"z\":9}],"
                                 "\"m\":{\"7\":null,\"-1\":null},\"g\":[{\"w\":3},{\"w\":null}]}");
    lks_pq_schema_free(s);

    /* a map keyed by a struct, and a LIST group that is not list-shaped */
    lks_pq_schema_elem e2[] = {
        E("r", -1, -1, 2, -1),
        E("m", OPT, -1, 1, LKS_PQ_CT_MAP),
        E("kv", REP, -1, 2, -1),
        E("key", REQ, -1, 1, -1),
        E("k", REQ, LKS_PQ_BYTE_ARRAY, 0, LKS_PQ_CT_UTF8),
        E("value", OPT, LKS_PQ_DOUBLE, 0, -1),
        E("notlist", OPT, -1, 1, LKS_PQ_CT_LIST),
        E("x", OPT, LKS_PQ_INT32, 0, -1),
    };
    CHECK_OK(lks_pq_schema_from_meta(e2, NF(e2), &s, &err), &err);
    REQUIRE(s);
    lks_pq_value key[] = {VS("q\"")};
    lks_pq_value kv[] = {VG(key, 1), VD(0.5)};
    lks_pq_value reps[] = {VG(kv, 2)};
    lks_pq_value m2[] = {VR(reps, 1)};
    lks_pq_value nl[] = {VI32(4)};
    lks_pq_value r2_items[] = {VG(m2, 1), VG(nl, 1)};
    lks_pq_value r2 = VG(r2_items, 2);
    CHECK_EQ_STR(js(s, 0, &r2), "{\"m\":{\"{\\\"k\\\":\\\"q\\\\\\\"\\\"}\":0.5},\"notlist\":{\"x\":4}}");
    lks_pq_schema_free(s);
}

/* ---- sources and sinks ------------------------------------------------- */

static void t_source_file(void) {
    char path[] = "/tmp/lks_test_src_XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    uint8_t data[10000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7 + 3);
    REQUIRE(write(fd, data, sizeof data) == (ssize_t)sizeof data);
    close(fd);

    lks_pq_source src;
    lks_err err;
    CHECK_OK(lks_pq_source_file(&src, path, &err), &err);
    CHECK_EQ_INT(src.size, sizeof data);
    CHECK_EQ_STR(src.name, path);
    uint8_t got[10000];
    CHECK_OK(src.read(src.ud, 0, sizeof data, got, &err), &err);
    CHECK(memcmp(got, data, sizeof data) == 0);
    CHECK_OK(src.read(src.ud, 9990, 10, got, &err), &err);
    CHECK(memcmp(got, data + 9990, 10) == 0);
    CHECK_OK(src.read(src.ud, 10000, 0, got, &err), &err);
    CHECK_EQ_INT(src.read(src.ud, 9995, 6, got, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "read past end of file") != NULL);
    CHECK(strstr(err.msg, path) != NULL);
    CHECK(strstr(err.msg, "offset 9995") != NULL);
    CHECK_EQ_INT(src.read(src.ud, UINT64_MAX, 1, got, &err), LKS_ECORRUPT);
    CHECK_EQ_INT(src.read(src.ud, 1, SIZE_MAX, got, &err), LKS_ECORRUPT);
    /* the file shrinking under the reader */
    REQUIRE(truncate(path, 100) == 0);
    CHECK_EQ_INT(src.read(src.ud, 50, 100, got, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "offset 100") != NULL);
    lks_pq_source_close(&src);
    CHECK(src.read == NULL);
    lks_pq_source_close(&src); /* twice is harmless */
    unlink(path);

    CHECK_EQ_INT(lks_pq_source_file(&src, path, &err), LKS_ENOTFOUND);
    CHECK(strstr(err.msg, path) != NULL);
    CHECK_EQ_INT(lks_pq_source_file(&src, "/tmp", &err), LKS_EINVAL);
    CHECK(strstr(err.msg, "not a regular file") != NULL);
}

static void t_source_mem_and_sinks(void) {
    lks_pq_source src;
    lks_err err;
    CHECK_OK(lks_pq_source_mem(&src, "hello world", 11, "mem.parquet"), &err);
    CHECK_EQ_INT(src.size, 11);
    CHECK_EQ_STR(src.name, "mem.parquet");
    uint8_t got[8];
    CHECK_OK(src.read(src.ud, 6, 5, got, &err), &err);
    CHECK(memcmp(got, "world", 5) == 0);
    lks_pq_source_close(&src);
    CHECK_OK(lks_pq_source_mem(&src, NULL, 0, NULL), &err);
    CHECK_EQ_INT(src.size, 0);
    CHECK(src.name != NULL);

    lks_buf b;
    lks_buf_init(&b, 8);
    CHECK_OK(lks_pq_sink_buf(&b, "PAR1", 4, &err), &err);
    CHECK_OK(lks_pq_sink_buf(&b, "abcd", 4, &err), &err);
    CHECK_EQ_INT(b.len, 8);
    CHECK_EQ_INT(lks_pq_sink_buf(&b, "x", 1, &err), LKS_ELIMIT);
    CHECK(strstr(err.msg, "output buffer") != NULL);
    lks_buf_free(&b);

    FILE *f = tmpfile();
    REQUIRE(f);
    CHECK_OK(lks_pq_sink_stdio(f, "PAR1", 4, &err), &err);
    CHECK_OK(lks_pq_sink_stdio(f, "", 0, &err), &err);
    CHECK_EQ_INT(ftell(f), 4);
    fclose(f);
    f = fopen("/dev/null", "r");
    REQUIRE(f);
    CHECK_EQ_INT(lks_pq_sink_stdio(f, "PAR1", 4, &err), LKS_EIO);
    fclose(f);
}

int main(void) {
    RUN(t_flat);
    RUN(t_nested);
    RUN(t_invalid);
    RUN(t_from_meta);
    RUN(t_from_meta_corrupt);
    RUN(t_json_ints);
    RUN(t_json_floats);
    RUN(t_json_decimals);
    RUN(t_json_times);
    RUN(t_json_bytes);
    RUN(t_json_nested);
    RUN(t_json_legacy_shapes);
    RUN(t_source_file);
    RUN(t_source_mem_and_sinks);
    return lks_test_done();
}
