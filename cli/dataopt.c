/* dataopt.c — reading, decoding and splitting datasets for the commands
 * (the split itself is the library's focal_run_split). */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "dataopt.h"


void dataopt_init(struct dataopt *o)
{
    memset(o, 0, sizeof *o);
    o->data.header = -1;
    o->img.width = o->img.height = 64;
    o->default_width = o->default_height = 64;
    o->val_frac = 0.2;
    o->test_frac = 0.2;
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(o->cache_buf, sizeof o->cache_buf, "%s/focal", xdg);
    else if (home && *home)
        snprintf(o->cache_buf, sizeof o->cache_buf, "%s/.cache/focal", home);
    o->img.cache_dir = o->cache_buf[0] ? o->cache_buf : NULL;
}

/* Parses "WxH" into the image options. */
static int parse_size(struct dataopt *o, const char *v)
{
    char *end;
    long w = strtol(v, &end, 10), h = 0;
    if (end != v && (*end == 'x' || *end == 'X')) {
        const char *s = end + 1;
        h = strtol(s, &end, 10);
        if (end == s)
            h = 0;
    }
    if (*end || w < 8 || h < 8 || w > 4096 || h > 4096) {
        cli_error("--size: '%s' is not a size; expected WIDTHxHEIGHT in pixels, each 8 to 4096 (e.g. 64x64)", v);
        return -1;
    }
    o->img.width = (int)w;
    o->img.height = (int)h;
    o->size_given = 1;
    return 1;
}

int dataopt_take(struct dataopt *o, int id, const char *v)
{
    long k;
    switch (id) {
    case DATAOPT_DATA: o->path = v; return 1;
    case DATAOPT_FORMAT:
        if (focal_format_parse(v, &o->data.format) == FOCAL_OK)
            return 1;
        cli_error("--format: %s", focal_last_error());
        return -1;
    case DATAOPT_IMAGES: o->data.images = v; return 1;
    case DATAOPT_LABELS: o->data.label_columns = v; return 1;
    case DATAOPT_MERGE_RARE:
        if (cli_parse_long("--merge-rare", v, 1, 10000, &k))
            return -1;
        o->data.merge_rare = (int)k;
        return 1;
    case DATAOPT_INCLUDE_RISK: o->data.include_risk = 1; return 1;
    case DATAOPT_TARGET: o->data.target = v; return 1;
    case DATAOPT_HEADER:
        if (strcmp(v, "yes") == 0)
            o->data.header = 1;
        else if (strcmp(v, "no") == 0)
            o->data.header = 0;
        else if (strcmp(v, "auto") == 0)
            o->data.header = -1;
        else {
            cli_error("--header: '%s'; expected yes, no or auto", v);
            return -1;
        }
        return 1;
    case DATAOPT_SIZE: return parse_size(o, v);
    case DATAOPT_CROP: o->img.fundus_crop = 1; return 1;
    case DATAOPT_CACHE: o->img.cache_dir = strcmp(v, "none") == 0 ? NULL : v; return 1;
    case DATAOPT_ON_BAD_IMAGE:
        if (strcmp(v, "skip") == 0)
            o->img.skip_bad = 1;
        else if (strcmp(v, "error") == 0)
            o->img.skip_bad = 0;
        else {
            cli_error("--on-bad-image: '%s'; expected skip or error", v);
            return -1;
        }
        return 1;
    case DATAOPT_VAL_FRAC:
        return cli_parse_double_in("--val-frac", v, 0.0, 1, 0.9, 0, "a fraction in (0, 0.9]", &o->val_frac) ? -1 : 1;
    case DATAOPT_TEST_FRAC:
        return cli_parse_double_in("--test-frac", v, 0.0, 0, 0.9, 0, "a fraction in [0, 0.9]", &o->test_frac) ? -1
                                                                                                                : 1;
    case DATAOPT_LONG_TAIL:
        return cli_parse_double_in("--long-tail", v, 1.0, 0, 1e6, 0, "an imbalance ratio >= 1 (e.g. 100)",
                                   &o->long_tail) ? -1 : 1;
    case DATAOPT_POSITIVE:
        if (!*v) {
            cli_error("--positive: the class name is empty; expected one of the data's two classes");
            return -1;
        }
        o->data.positive = v;
        return 1;
    case DATAOPT_SKIPPED_LIST:
        if (!*v) {
            cli_error("--skipped-list: the file name is empty");
            return -1;
        }
        o->skipped_list = v;
        return 1;
    case DATAOPT_HEAD:
        if (strcmp(v, "sigmoid") == 0)
            o->data.two_class_softmax = 0;
        else if (strcmp(v, "softmax") == 0)
            o->data.two_class_softmax = 1;
        else {
            cli_error("--head: '%s'; expected sigmoid or softmax", v);
            return -1;
        }
        return 1;
    default: return 0;
    }
}

/* Progress of image decoding. */
static void decode_progress(void *ctx, int done, int total)
{
    progress_update(ctx, "decoding images", done, total, "img", NULL);
}

/* The sizes of a dataset's image files, read once from their headers. */
struct image_sizes {
    int w, h;                /* the size they all share, or 0 (several, or none readable) */
    int *wh;                 /* n pairs (width, height); -1 where the header cannot be read (the
                                decoder reports those files); NULL when out of memory */
    int n;
};

static void scan_sizes(const struct focal_dataset *d, struct image_sizes *s)
{
    int first = 1;
    s->w = s->h = 0;
    s->n = d->n;
    s->wh = malloc((size_t)d->n * 2 * sizeof *s->wh);
    for (int i = 0; i < d->n; i++) {
        int iw = -1, ih = -1;
        if (focal_image_read_size(d->paths[i], &iw, &ih) != FOCAL_OK)
            iw = ih = -1;
        if (s->wh)
            s->wh[2 * i] = iw, s->wh[2 * i + 1] = ih;
        if (iw < 0)
            continue;
        if (first) {
            s->w = iw;
            s->h = ih;
            first = 0;
        } else if (iw != s->w || ih != s->h) {
            s->w = s->h = -1;
        }
    }
    if (s->w < 0)
        s->w = s->h = 0;
}

/* How many of the scanned images are smaller than tw × th in either side. */
static int count_smaller(const struct image_sizes *s, int tw, int th)
{
    int k = 0;
    for (int i = 0; s->wh && i < s->n; i++)
        k += s->wh[2 * i] >= 0 && (s->wh[2 * i] < tw || s->wh[2 * i + 1] < th);
    return k;
}

/* dataopt_decode with the image sizes already scanned. */
static int decode_scanned(const struct dataopt *o, struct focal_dataset *d, int quiet, const struct image_sizes *s);

int dataopt_decode(const struct dataopt *o, struct focal_dataset *d, int quiet)
{
    struct image_sizes s;
    scan_sizes(d, &s);
    const int status = decode_scanned(o, d, quiet, &s);
    free(s.wh);
    return status;
}

static int decode_scanned(const struct dataopt *o, struct focal_dataset *d, int quiet, const struct image_sizes *s)
{
    const int n_small = count_smaller(s, o->img.width, o->img.height);
    if (n_small && !quiet)
        printf("images: %d of %d are smaller than %dx%d and are enlarged to it (bilinear)\n", n_small, d->n,
               o->img.width, o->img.height);
    struct progress p;
    char **skipped = NULL;
    int n_skipped = 0;
    progress_start(&p, quiet);
    focal_status st = focal_dataset_load_images(d, &o->img, decode_progress, &p, &skipped, &n_skipped);
    progress_clear(&p);
    const int on_image = focal_dataset_load_failed_on_image();
    char note[512];
    snprintf(note, sizeof note, "%s", focal_dataset_load_note());
    char err[1024];
    snprintf(err, sizeof err, "%s", focal_last_error());
    int status = st == FOCAL_OK ? CLI_EXIT_OK : CLI_EXIT_DATA;
    if (note[0])
        cli_warn("%s", note);
    for (int i = 0; i < n_skipped && i < DATAOPT_SKIPPED_SHOWN; i++)
        cli_warn("skipped %s", skipped[i]);
    if (n_skipped) {
        const int more = n_skipped - DATAOPT_SKIPPED_SHOWN;
        if (more > 0 && !o->skipped_list)
            cli_warn("... and %d more; %d image%s skipped (--on-bad-image skip; --skipped-list FILE lists them all)",
                     more, n_skipped, n_skipped == 1 ? "" : "s");
        else
            cli_warn("%d image%s skipped (--on-bad-image skip)", n_skipped, n_skipped == 1 ? "" : "s");
    }
    if (o->skipped_list && st == FOCAL_OK) {
        struct focal_wfile wf;
        if (focal_wfile_open(&wf, o->skipped_list) == FOCAL_OK) {
            for (int i = 0; i < n_skipped; i++)
                fprintf(wf.fp, "%s\n", skipped[i]);
            if (focal_wfile_commit(&wf) == FOCAL_OK) {
                if (n_skipped)
                    cli_warn("the %d skipped image%s are listed in %s", n_skipped, n_skipped == 1 ? "" : "s",
                             o->skipped_list);
            } else {
                cli_error("--skipped-list: %s", focal_last_error());
                status = CLI_EXIT_DATA;
            }
        } else {
            cli_error("--skipped-list: %s", focal_last_error());
            status = CLI_EXIT_DATA;
        }
    }
    for (int i = 0; i < n_skipped; i++)
        free(skipped[i]);
    free(skipped);
    if (st != FOCAL_OK)
        cli_error("%s%s", err, !o->img.skip_bad && on_image ? " (--on-bad-image skip leaves such images out)" : "");
    return status;
}

int dataopt_load(struct dataopt *o, struct focal_dataset **d, int quiet)
{
    if (!o->path) {
        cli_error("--data is required: a dataset (RFMiD labels CSV or folder, class folders, .npz, idx, CSV table)");
        return CLI_EXIT_USAGE;
    }
    if (o->val_frac + o->test_frac >= 0.95) {
        cli_error("--val-frac %g + --test-frac %g leave too little for training; their sum must be below 0.95",
                  o->val_frac, o->test_frac);
        return CLI_EXIT_USAGE;
    }
    if (focal_dataset_open(o->path, &o->data, d) != FOCAL_OK) {
        cli_error("%s", focal_last_error());
        return CLI_EXIT_DATA;
    }
    if (focal_dataset_check_classes(*d, o->path) != FOCAL_OK) {
        cli_error("%s", focal_last_error());
        focal_dataset_free(*d);
        *d = NULL;
        return CLI_EXIT_DATA;
    }
    if (!(*d)->paths) {
        if (o->size_given == 1 || o->img.fundus_crop)
            cli_warn("--size and --crop apply to image files; %s holds its data already decoded", o->path);
        return CLI_EXIT_OK;
    }
    struct image_sizes s;
    scan_sizes(*d, &s);
    if (!o->size_given) {
        /* the images' own size when they share one (up to 512 px a side), else the default */
        const int own = s.w > 0 && s.w <= 512 && s.h <= 512;
        o->img.width = own ? s.w : o->default_width;
        o->img.height = own ? s.h : o->default_height;
        if (!quiet)
            printf("images: %s; training at %dx%d (--size WxH to choose)\n",
                   own ? "all of one size" : s.w > 0 ? "all of one size, above 512 px a side" : "of several sizes",
                   o->img.width, o->img.height);
    }
    int status = decode_scanned(o, *d, quiet, &s);
    free(s.wh);
    if (status != CLI_EXIT_OK) {
        focal_dataset_free(*d);
        *d = NULL;
    }
    return status;
}

int dataopt_splits(const struct dataopt *o, const struct focal_dataset *d, uint64_t seed, int **train, int *n_train,
                   int **val, int *n_val, int **test, int *n_test)
{
    int status = CLI_EXIT_OK;
    if (focal_run_split(d, o->val_frac, o->test_frac, seed, train, n_train, val, n_val, test, n_test) != FOCAL_OK) {
        cli_error("%s", focal_last_error());
        return CLI_EXIT_DATA;
    }
    if (o->long_tail > 0 &&
        (focal_long_tail_subset(d, *train, *n_train, o->long_tail, seed, *train, n_train) != FOCAL_OK ||
         focal_long_tail_subset(d, *val, *n_val, o->long_tail, seed + 1, *val, n_val) != FOCAL_OK)) {
        cli_error("--long-tail: %s", focal_last_error());
        status = CLI_EXIT_USAGE;
    } else if (*n_train < 2 || *n_val < 1) {
        cli_error("%s: %d training and %d validation samples; training needs at least 2 and 1", o->path, *n_train,
                  *n_val);
        status = CLI_EXIT_DATA;
    }
    if (status != CLI_EXIT_OK) {
        free(*train);
        free(*val);
        free(*test);
        *train = *val = *test = NULL;
    }
    return status;
}

void dataopt_help(FILE *fp)
{
    fputs(
"Data\n"
"  --data PATH          the dataset, its format recognised from the path:\n"
"                         a folder with RFMiD_Training/Validation/Testing_Labels.csv\n"
"                         (or one labels CSV, or several joined by commas) and\n"
"                         <ID>.png|jpg images; a folder of class folders\n"
"                         (root/<class>/*.png); a MedMNIST .npz; an MNIST idx\n"
"                         images file (.gz); a CSV table.\n"
"  --format F           force the format: rfmid, folders, npz, idx or csv.\n"
"  --images DIR         RFMiD: the image folder (default: Training/Validation/\n"
"                       Test, images/ or the CSV's own folder).\n"
"  --labels A,B,...     RFMiD: the label columns to use (default all).\n"
"  --merge-rare K       RFMiD: keep the K most frequent labels and merge the rest\n"
"                       into one OTHER label (RIADD used K = 27).\n"
"  --include-risk       RFMiD: Disease_Risk becomes a label too.\n"
"  --target COL         CSV table: the target column, by name or 1-based number\n"
"                       (default the last). Missing values ('?' or empty) are\n"
"                       replaced by the training mean of their column.\n"
"  --header yes|no|auto CSV table: whether the first row names the columns.\n"
"  --size WxH           image files: resize to W x H pixels; shrinking averages\n"
"                       areas, enlarging is bilinear. Default: the images' own\n"
"                       size when they all share one (up to 512 px a side),\n"
"                       else 64x64 (keras-cnn: 450x300).\n"
"  --crop               crop fundus photos to the retina disc before resizing.\n"
"  --cache DIR|none     where decoded images are kept between runs (default\n"
"                       $XDG_CACHE_HOME/focal or ~/.cache/focal).\n"
"                       A folder that exists but cannot be written is still\n"
"                       read; new images are then decoded and not saved.\n"
"  --on-bad-image skip|error\n"
"                       a missing or unreadable image: stop (default), or leave\n"
"                       it out; the first 5 left out and their count are shown.\n"
"  --skipped-list FILE  with skip: write every image left out (one line each,\n"
"                       with the reason) to FILE.\n"
"  --val-frac F         data without its own validation split: the fraction\n"
"                       drawn for validation, stratified (default 0.2).\n"
"  --test-frac F        data without splits: the fraction for testing (0.2).\n"
"  --long-tail RHO      single-label data: keep a long-tailed subset of the\n"
"                       training and validation samples, class c keeping\n"
"                       n_max * RHO^(-c/(C-1)) (the long-tailed MNIST/CIFAR\n"
"                       protocol); the test split is left balanced.\n"
"  --positive NAME      data with two classes is a binary task (one sigmoid\n"
"                       output, its probability that of the positive class):\n"
"                       NAME is the positive class; default the rarer one.\n"
"  --head H             sigmoid (default) or softmax: with softmax, two\n"
"                       classes stay a two-way softmax (multi-class).\n", fp);
}
