/* `titan-host status`: what it shows, in every form (text, JSON, Markdown, one HTML page), from
 * the histories it read from the store. The HTML page is self-contained: inline CSS and SVG, no
 * script, no link, nothing fetched. */
#ifndef TITAN_STATUS_VIEW_H
#define TITAN_STATUS_VIEW_H
#include <stddef.h>
#include <stdint.h>

#include "history.h"
#include "strbuf.h"

typedef struct status_view {
    const char *store;           /* store_describe */
    int64_t now_ms;
    int halt_store;              /* the store's halt flag: 1 on, 0 off, -1 could not be read */
    int halt_env;                /* TITAN_HALT halts the runs of this environment */
    const history *strategies;
    size_t n;
    int last;                    /* cycles shown per strategy */
} status_view;

/* The forms; each appends to out. */
void status_text(const status_view *v, strbuf *out);
void status_json(const status_view *v, strbuf *out);
void status_markdown(const status_view *v, strbuf *out);
/* Writes the page to path: 0, or -1 with err. */
int status_page_write(const status_view *v, const char *path, char *err, size_t errlen);
#endif
