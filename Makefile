# lakesync build.  `make` builds liblakesync (static and shared) and the
# lakesync command into build/; `make SAN=1` builds the same with
# AddressSanitizer + UndefinedBehaviorSanitizer into build/asan/;
# `make check` builds both and runs the whole test suite (tests/run.sh).

CC      ?= cc
SAN     ?= 0
OPT     ?= -O2
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wformat=2 -Wvla -Werror
CFLAGS  := -std=c11 -D_GNU_SOURCE -Isrc -g -fPIC $(WARN) $(OPT) $(EXTRA_CFLAGS)
MARIADB_CFLAGS := $(shell pkg-config --cflags libmariadb 2>/dev/null || echo -I/usr/include/mariadb)
LDLIBS  := -lsnappy -lzstd -lz -llz4 -lxxhash -lbrotlidec -lbrotlienc -ljansson -lroaring -lmariadb -lrdkafka -lm -lsqlite3 -lcurl -lcrypto

ifeq ($(SAN),1)
BUILD   ?= build/asan
CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
else
BUILD   ?= build
endif

LIB_SRC  := $(sort $(wildcard src/core/*.c src/store/*.c src/parquet/*.c src/delta/*.c src/cdc/*.c src/rawzone/*.c src/merge/*.c src/source/*.c src/pipeline/*.c src/transport/*.c) \
              $(filter-out src/sql/ext.c,$(wildcard src/sql/*.c)))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))
BENCH_SRC:= $(sort $(wildcard bench/*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TESTS    := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOLS    := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
BENCHES  := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

# Only the source/ files that talk to the server see libmariadb's headers.
$(filter $(BUILD)/obj/src/source/%,$(LIB_OBJ)) $(filter $(BUILD)/obj/src/pipeline/%,$(LIB_OBJ)): CFLAGS += $(MARIADB_CFLAGS)

all: $(BUILD)/liblakesync.a $(BUILD)/liblakesync.so $(BUILD)/lakesync $(BUILD)/ext/lakesync.so

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/liblakesync.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/liblakesync.so: $(LIB_OBJ)
	$(CC) -shared $(LDFLAGS) -o $@ $^ $(LDLIBS)

# `lakesync sql` has line editing and history when libedit is installed
# (Debian libedit-dev, see scripts/install-deps.sh); plain stdin otherwise.
ifeq ($(shell pkg-config --exists libedit 2>/dev/null && echo y),y)
$(CLI_OBJ): CFLAGS += -DLKS_HAVE_LIBEDIT
CLI_LIBS := -ledit
endif

$(BUILD)/lakesync: $(CLI_OBJ) $(BUILD)/liblakesync.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/liblakesync.a $(LDLIBS) $(CLI_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/liblakesync.a $(wildcard tests/*.h tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests $(LDFLAGS) -o $@ $< $(BUILD)/liblakesync.a $(LDLIBS)

$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/liblakesync.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests $(LDFLAGS) -o $@ $< $(BUILD)/liblakesync.a $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(BUILD)/liblakesync.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/liblakesync.a $(LDLIBS)

tests: $(TESTS) $(TOOLS)
bench: $(BENCHES)

# The whole suite: release and sanitizer builds, unit tests, corpus,
# DuckDB round trips, CLI, fuzz smoke.  See tests/run.sh.
check:
	$(MAKE) all tests
	$(MAKE) SAN=1 all tests
	tests/run.sh

clean:
	rm -rf build

.PHONY: all tests bench check clean
-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)

# ---- the SQLite loadable extension ------------------------------------------------
# build/ext/lakesync.so: `.load build/ext/lakesync` in the stock sqlite3 shell
# (entry point sqlite3_lakesync_init).  The module (src/sql/vtab.c) is compiled
# a second time with LKS_SQLITE_EXT so it calls SQLite through the host's
# sqlite3_api routines; ext.c holds the entry point.  Not linked with
# -lsqlite3: the host provides SQLite.  (A SAN=1 build of it only loads into
# a sanitizer-built host.)
EXT_OBJ := $(BUILD)/obj-ext/src/sql/vtab.o $(BUILD)/obj-ext/src/sql/ext.o \
           $(filter-out $(BUILD)/obj/src/sql/% $(BUILD)/obj/src/source/% $(BUILD)/obj/src/pipeline/% $(BUILD)/obj/src/transport/%,$(LIB_OBJ))

$(BUILD)/obj-ext/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DLKS_SQLITE_EXT -MMD -MP -c $< -o $@

$(BUILD)/ext/lakesync.so: $(EXT_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared $(LDFLAGS) -o $@ $^ $(filter-out -lsqlite3 -lmariadb,$(LDLIBS))

-include $(EXT_OBJ:.o=.d)

# ---- fuzzing ------------------------------------------------------------------
# `make fuzz` builds the libFuzzer target build/fuzz/fuzz_parquet with clang
# (ASan + UBSan), compiling the library sources directly (no liblakesync.a:
# the fuzzer needs them instrumented for coverage).  Run it with
# tests/scenario/fuzz_smoke.sh or by hand (see fuzz/fuzz_parquet.c).
FUZZ_CC     ?= clang
FUZZ_SRC    := $(sort $(wildcard src/core/*.c src/store/*.c src/parquet/*.c))
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -Isrc -Ifuzz -g -O1 $(WARN) -fno-omit-frame-pointer \
               -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined

fuzz: build/fuzz/fuzz_parquet

build/fuzz/fuzz_parquet: fuzz/fuzz_parquet.c fuzz/exercise.h $(FUZZ_SRC) $(wildcard src/core/*.h src/store/*.h src/parquet/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ fuzz/fuzz_parquet.c $(FUZZ_SRC) $(LDLIBS)

# the hostile-input unit test replays files through the fuzzer's exerciser
$(BUILD)/tests/test_parquet_hostile: fuzz/exercise.h

.PHONY: fuzz

# ---- fuzzing the Delta log -------------------------------------------------------
# build/fuzz/fuzz_delta_action (log action parser) and build/fuzz/fuzz_delta_dv
# (deletion vectors), built like fuzz_parquet with the Delta sources added.
# Run them with tests/scenario/fuzz_delta.sh or by hand (see fuzz/fuzz_delta_*.c).
FUZZ_DELTA_SRC := $(sort $(wildcard src/core/*.c src/store/*.c src/parquet/*.c src/delta/*.c))
FUZZ_DELTA_DEP := fuzz/delta_exercise.h $(FUZZ_DELTA_SRC) \
                  $(wildcard src/core/*.h src/store/*.h src/parquet/*.h src/delta/*.h)

fuzz: build/fuzz/fuzz_delta_action build/fuzz/fuzz_delta_dv

build/fuzz/fuzz_delta_action build/fuzz/fuzz_delta_dv: build/fuzz/%: fuzz/%.c $(FUZZ_DELTA_DEP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_DELTA_SRC) $(LDLIBS)

$(BUILD)/tests/test_delta_hostile: fuzz/delta_exercise.h

# ---- fuzzing the Debezium reader ----------------------------------------------------
# build/fuzz/fuzz_dbz: every input a stream of records, one per line, parsed
# in order by one parser (see fuzz/fuzz_dbz.c); run it with
# tests/scenario/fuzz_dbz.sh or by hand.
FUZZ_DBZ_SRC := $(sort $(wildcard src/core/*.c src/cdc/*.c))

fuzz: build/fuzz/fuzz_dbz

build/fuzz/fuzz_dbz: fuzz/fuzz_dbz.c fuzz/touch.h $(FUZZ_DBZ_SRC) $(wildcard src/core/*.h src/cdc/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ fuzz/fuzz_dbz.c $(FUZZ_DBZ_SRC) $(LDLIBS)

# ---- fuzzing the binlog decoder -----------------------------------------------------
# build/fuzz/fuzz_binlog: every input decoded as a binlog file and as the
# events after a built-in format description (see fuzz/fuzz_binlog.c); run
# it with tests/scenario/fuzz_binlog.sh or by hand.
FUZZ_BINLOG_SRC := $(sort $(wildcard src/core/*.c)) src/source/binlog.c src/source/binlog_value.c \
                   src/source/mysql_json.c

fuzz: build/fuzz/fuzz_binlog

build/fuzz/fuzz_binlog: fuzz/fuzz_binlog.c fuzz/touch.h $(FUZZ_BINLOG_SRC) $(wildcard src/core/*.h) src/cdc/cdc.h \
                        src/source/binlog.h src/source/binlog_int.h src/source/mysql_json.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ fuzz/fuzz_binlog.c $(FUZZ_BINLOG_SRC) $(LDLIBS)
