/* strbuf's JSON encoders never emit bytes that are not UTF-8: every ill-formed sequence of the
 * Unicode standard's table 3-7 becomes \ufffd, every well-formed character is kept. */
#include "strbuf.h"
#include "unit.h"

static const char *json(const char *s)
{
    static strbuf b;
    b.len = 0;
    strbuf_json_string(&b, s, strlen(s));
    return strbuf_cstr(&b);
}

static const char *repaired(const char *s)
{
    static strbuf b;
    b.len = 0;
    strbuf_append_utf8_json(&b, s, strlen(s));
    return strbuf_cstr(&b);
}

int main(void)
{
    /* well-formed: ASCII, 2, 3 and 4 bytes, the edges of each range */
    const char *good[] = {"a", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbf",
                          "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        size_t n = strlen(good[i]);
        CHECK_MSG(strbuf_utf8_len((const unsigned char *)good[i], n) > 0, good[i]);
        CHECK_STR(repaired(good[i]), good[i]);
    }
    /* ill-formed: stray continuation, overlong (C0, C1, E0 80, F0 80), surrogate (ED A0),
     * past U+10FFFF (F4 90, F5), 5-byte lead, cut short */
    const char *bad[] = {"\x80", "\xbf", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", "\xed\xa0\x80",
                         "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xf8\x88\x80\x80\x80", "\xc3", "\xe2\x82", "\xff"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT(strbuf_utf8_len((const unsigned char *)bad[i], strlen(bad[i])), 0);
        CHECK_MSG(strstr(repaired(bad[i]), "\\ufffd") == repaired(bad[i]), bad[i]);
        CHECK_MSG(strspn(repaired(bad[i]), "\\ufd") == strlen(repaired(bad[i])), repaired(bad[i]));
    }
    /* in a JSON string: one \ufffd per bad byte, good characters and escapes as before */
    CHECK_STR(json("a\xff" "b\xc3"), "\"a\\ufffdb\\ufffd\"");
    CHECK_STR(json("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");
    CHECK_STR(json("\xc3\xa9\n\"\x01"), "\"\xc3\xa9\\n\\\"\\u0001\"");
    CHECK_STR(repaired("{\"k\xfe\":\"\xe2\x82\xac\"}"), "{\"k\\ufffd\":\"\xe2\x82\xac\"}");
    /* a cut sequence at the very end does not read past it */
    CHECK_INT(strbuf_utf8_len((const unsigned char *)"\xf0\x9f\x98", 3), 0);
    return UNIT_DONE("strbuf");
}
