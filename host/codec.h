/* Byte encodings shared by the bindings and the Kraken signer: hex and base64 (RFC 4648). */
#ifndef TITAN_CODEC_H
#define TITAN_CODEC_H
#include <stddef.h>

/* Length of the base64 text for n bytes (padded, no NUL). */
size_t codec_base64_encoded_len(size_t n);
/* Writes the padded base64 of data into out (needs encoded_len + 1 bytes; NUL-terminated). */
void codec_base64_encode(const unsigned char *data, size_t n, char *out);
/* Decodes strict padded base64 (whitespace not allowed) into out (needs n/4*3 bytes).
 * Returns the decoded length, or -1 when the text is not valid base64. */
long codec_base64_decode(const char *text, size_t n, unsigned char *out);
/* Writes lower-case hex of data into out (needs 2n + 1 bytes; NUL-terminated). */
void codec_hex_encode(const unsigned char *data, size_t n, char *out);
/* The sha256 of a file's bytes in hex; 0, or -1 (out is then "unreadable"). */
int codec_file_sha256(const char *path, char out[65]);
#endif
