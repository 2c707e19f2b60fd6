/*
 * fuzz_parquet.c — libFuzzer target for the Parquet reader.  Every input is
 * opened as an in-memory Parquet file with small limits and read through
 * every reader entry point (fuzz/exercise.h); the reader must answer with a
 * status code, never crash, leak, hang or allocate what the input cannot
 * justify.
 *
 *   make fuzz
 *   build/fuzz/fuzz_parquet -malloc_limit_mb=512 -max_len=65536 CORPUS_DIR fuzz/seeds
 *
 * Crashes found are kept, minimised, in fuzz/crashes/ and replayed by
 * tests/unit/test_parquet_hostile.c.
 */
#include "exercise.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lks_fuzz_result res;
    lks_fuzz_exercise(data, size, &res);
    return 0;
}
