// json_get.h: typed reads of truth.json's keys for the generator's tests, each a test failure
// (not a crash) when the key is missing or has another type.
#ifndef VXS_TEST_JSON_GET_H
#define VXS_TEST_JSON_GET_H

#include <jansson.h>

#include <cmath>
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

namespace vxs_test {

inline int64_t I(const json_t *o, const char *k) {
    const json_t *v = json_object_get(o, k);
    EXPECT_TRUE(json_is_integer(v)) << k;
    return v ? (int64_t)json_integer_value(v) : 0;
}
inline double R(const json_t *o, const char *k) {
    const json_t *v = json_object_get(o, k);
    EXPECT_TRUE(json_is_number(v)) << k;
    return v ? json_number_value(v) : NAN;
}
inline std::string S(const json_t *o, const char *k) {
    const json_t *v = json_object_get(o, k);
    EXPECT_TRUE(json_is_string(v)) << k;
    return v ? json_string_value(v) : "";
}

} // namespace vxs_test

#endif // VXS_TEST_JSON_GET_H
