/*
 * focal/data.h — datasets: the readers, image loading, splits, samplers and the synthetic fundus set.
 * Part of libfocal's public interface; include "focal.h" for all of it.
 */
#ifndef FOCAL_DATA_H
#define FOCAL_DATA_H

#include "focal/base.h"
#include "focal/image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Synthetic data                                                            */
/* ------------------------------------------------------------------------ */

/* A synthetic fundus dataset shaped like RFMiD, for trying the whole
 * pipeline without the real photographs: each RGB image shows an orange-red
 * retina disc on black with an optic disc, a macula and branching vessels,
 * and the signs of the conditions drawn for it; the conditions are
 * independent, with prevalences falling off in a long tail like RFMiD's.
 * Position, size, rotation, eye side, brightness, tint, gamma, illumination
 * and noise vary from image to image. Sample i depends only on (seed, i,
 * size), not on the thread count: the same options give byte-identical
 * files (with the same build of the library and of the C math library,
 * whose sinf/expf/powf results it uses). */

#define FOCAL_SYNTH_CONDITIONS 10
#define FOCAL_SYNTH_MIN_N 10
#define FOCAL_SYNTH_MAX_N 1000000
#define FOCAL_SYNTH_MIN_SIZE 16
#define FOCAL_SYNTH_MAX_SIZE 1024

/* A condition the generator draws. */
struct focal_synth_condition {
    const char *name;        /* the CSV column, an RFMiD abbreviation ("DR", "MH", ...) */
    const char *sign;        /* what is drawn, in words */
    double prevalence;       /* the probability that an image has it */
};

/* The FOCAL_SYNTH_CONDITIONS conditions in CSV column order, most frequent
 * first: DR 20%, MH 12%, ODC 8%, DN 5%, MYA 3%, BRVO 2%, TV 1.2%, LS 0.8%,
 * CWS 0.5%, MHL 0.3%. Static storage. */
const struct focal_synth_condition *focal_synth_conditions(void);

/* The split sizes of an n-image dataset, indexed by enum focal_split:
 * n/5 validation, n/5 test (rounded down), the rest (about 60%) training.
 * Samples 0.. are training, then validation, then test. */
void focal_synth_split_sizes(int n, int counts[3]);

/* Sample `index` (>= 0, counted over the whole dataset) of the dataset drawn
 * from seed: its labels (FOCAL_SYNTH_CONDITIONS values 0/1) and, when img is
 * not NULL, its image: a new size × size RGB image (release with
 * focal_image_release). The labels come first from the sample's own generator,
 * so they do not depend on size and img = NULL draws them cheaply.
 * FOCAL_ERR_ARG if size is outside FOCAL_SYNTH_MIN_SIZE..MAX_SIZE,
 * FOCAL_ERR_NOMEM; *img is then zeroed. Thread-safe. */
focal_status focal_synth_sample(uint64_t seed, int64_t index, int size, uint8_t *labels, struct focal_image *img);

struct focal_synth_options {
    int n;                   /* images in all, FOCAL_SYNTH_MIN_N..FOCAL_SYNTH_MAX_N */
    int size;                /* side of the square images, FOCAL_SYNTH_MIN_SIZE..MAX_SIZE */
    uint64_t seed;
    int force;               /* 1: replace a non-empty dir that focal synth wrote before */
};

/* What focal_synth_write wrote, per split (enum focal_split). */
struct focal_synth_summary {
    int images[3];
    int risk[3];                                   /* images with Disease_Risk = 1 */
    int positives[3][FOCAL_SYNTH_CONDITIONS];      /* images with each condition */
};

/* Writes the dataset of opt->n images to the directory dir, in RFMiD's
 * layout:
 *   dir/RFMiD_Training_Labels.csv, RFMiD_Validation_Labels.csv,
 *       RFMiD_Testing_Labels.csv   columns ID, Disease_Risk (1 if any
 *                                  condition), then one 0/1 column per
 *                                  condition; IDs 1.. in each split
 *   dir/Training/<ID>.png, dir/Validation/<ID>.png, dir/Test/<ID>.png
 *   dir/synth.json                 how it was made (version, n, size, seed,
 *                                  conditions); marks the folder as ours
 * Images are drawn in parallel on focal_get_threads() threads; progress (may
 * be NULL; a focal_progress_fn, see Datasets) is called after each image,
 * from one thread at a time. Atomic: everything is written into a new
 * directory beside dir ("<dir>.tmp.<pid>.<k>"), synced, and renamed to dir
 * only when complete; on failure it is removed and dir is untouched. dir may
 * be absent or empty; a non-empty dir is refused (FOCAL_ERR_IO) unless
 * opt->force is set and it holds a synth.json, in which case it is replaced
 * (moved aside, then removed once the new one is in place). summary (may be
 * NULL) receives the counts. FOCAL_ERR_ARG for options out of range;
 * FOCAL_ERR_IO naming the path for file-system failures. */
focal_status focal_synth_write(const char *dir, const struct focal_synth_options *opt,
                               void (*progress)(void *ctx, int done, int total), void *ctx,
                               struct focal_synth_summary *summary);

/* ------------------------------------------------------------------------ */
/* Datasets                                                                  */
/* ------------------------------------------------------------------------ */

enum focal_split { FOCAL_SPLIT_TRAIN = 0, FOCAL_SPLIT_VAL = 1, FOCAL_SPLIT_TEST = 2 };

enum focal_format {
    FOCAL_FORMAT_AUTO = 0,
    FOCAL_FORMAT_RFMID,      /* labels CSV(s) with ID + condition columns, <ID>.png|jpg images */
    FOCAL_FORMAT_FOLDERS,    /* root/<class>/<image> */
    FOCAL_FORMAT_NPZ,        /* MedMNIST .npz */
    FOCAL_FORMAT_IDX,        /* MNIST idx images + labels (gzip or plain) */
    FOCAL_FORMAT_CSV         /* numeric table with a target column */
};
/* "auto", "rfmid", "folders", "npz", "idx", "csv"; "unknown" outside the enum. */
const char *focal_format_name(enum focal_format f);
/* Parses a name as above; FOCAL_ERR_ARG (message lists the valid names) if unknown. */
focal_status focal_format_parse(const char *name, enum focal_format *f);

/* A labelled dataset in memory. Its inputs are image files (paths, decoded
 * later by focal_dataset_load_images), decoded pixels (.npz, idx) or numeric
 * features (CSV tables). With splits, samples are ordered training,
 * validation, test. Made by focal_dataset_open; free with focal_dataset_free. */
struct focal_dataset {
    enum focal_task task;    /* RFMiD, npz with (N,C) labels, C > 1: MULTILABEL. Class folders, idx,
                                npz with (N,1) or (N,) labels, CSV: BINARY for exactly two classes
                                (unless opt->two_class_softmax), else MULTICLASS. */
    enum focal_format format;/* the format read (never AUTO) */
    int n;                   /* samples */
    int num_classes;         /* multi-class: classes; multi-label: labels; binary: 2 */
    char **class_names;      /* num_classes names (binary: negative, positive: the positive class is
                                opt->positive, else the rarer one, and label 1 means it). RFMiD: the columns
                                (OTHER for the merged ones); folders: the folder names, sorted; npz,
                                idx: "0", "1", ...; CSV: the target values, sorted (by value when
                                every one is a number, printed "%.15g"; else as text, by strcmp) */
    int32_t *label;          /* binary / multi-class: n class indices, else NULL */
    uint8_t *labels;         /* multi-label: n × num_classes 0/1, else NULL. A label may have no
                                positive in the training split: readers keep it; callers decide */
    uint8_t *risk;           /* RFMiD Disease_Risk when present and not a label: n 0/1, else NULL */
    uint8_t *split;          /* n values of enum focal_split, or NULL when the data has no splits */
    char **ids;              /* n sample identifiers: RFMiD ID; folders "[split/]class/file";
                                npz "train/17" (split, index within it); idx the index "0".."n-1";
                                CSV the line number in the file */
    char **paths;            /* n image files, or NULL */
    uint8_t *pixels;         /* n × height × width × channels (HWC), or NULL */
    int height, width, channels;
    float *features;         /* CSV: n × n_features, else NULL. NaN marks a missing value ('?' or an
                                empty field); the trainer replaces it with the training-split mean */
    int n_features;
    char **feature_names;    /* n_features names (the CSV header), or NULL without a header */
};
/* Frees d and everything it holds. Safe on NULL. */
void focal_dataset_free(struct focal_dataset *d);

/* How to read a dataset; zero-initialise, then set what differs. Note that
 * header = 0 means "no header": set −1 to detect one. */
struct focal_data_options {
    enum focal_format format;    /* AUTO: from the path (see focal_dataset_open) */
    const char *images;          /* RFMiD: image folder; NULL: found beside each CSV (see below) */
    const char *label_columns;   /* RFMiD: comma-separated columns to keep, in this order (may name
                                    Disease_Risk); NULL: every condition column, in file order */
    int merge_rare;              /* RFMiD: k > 0 keeps the k conditions with the most training
                                    positives (ties: the earlier column) in file order and appends
                                    OTHER = OR of the rest; needs k below the conditions selected;
                                    0: off */
    int include_risk;            /* RFMiD: Disease_Risk becomes the first label (not in risk) */
    const char *target;          /* CSV: target column, by header name or 1-based index; NULL: the last */
    int header;                  /* CSV: -1 detect (a first row with a field that is neither a
                                    number, nor empty, nor ?), 0 none, 1 present */
    const char *positive;        /* data with exactly two classes: the positive class's name;
                                    NULL: the rarer class (of equal counts, the second) */
    int two_class_softmax;       /* 1: data with two classes stays multi-class (a two-way softmax);
                                    0: it is binary (one sigmoid output) */
};

/* Reads the dataset at path into a new dataset *out (free with
 * focal_dataset_free): labels, splits and image paths, pixels or features;
 * images are not decoded here (focal_dataset_load_images). opt NULL: the
 * defaults (AUTO, header detected).
 *
 * Format detection (opt->format AUTO; any other value forces that reader):
 *   a folder holding .csv files whose header starts with ID → RFMID; any
 *   other folder → FOLDERS; a path that does not exist but holds a comma →
 *   RFMID (a list); *.npz → NPZ; a name containing "idx3-ubyte" → IDX;
 *   *.csv → RFMID when its header starts with ID, else CSV; any other file by
 *   content: a zip → NPZ, gzip or idx magic → IDX, else CSV.
 * RFMiD: path is a labels CSV, "a.csv,b.csv,c.csv", or a folder (its label
 *   CSVs). Columns: ID, optional Disease_Risk, 0/1 condition columns named by
 *   the header (a UTF-8 byte-order mark is skipped). Several files are the
 *   splits their names tell (ignoring case, the first match of "train",
 *   "valid", "eval", "test"), and must have the same columns; one file has
 *   no splits. IDs are unique within a file and cannot contain '/'. Image
 *   folder of each CSV: with opt->images, <images>/<Split> if it exists, else
 *   <images>; without, the first folder that exists of <csvdir>/<Split>,
 *   <csvdir>/images, <csvdir> (<Split> = Training, Validation or Test, the
 *   folders of the RFMiD distribution and of `focal synth`). A sample's file is
 *   the first of <ID>.png, <ID>.jpg, <ID>.jpeg there, else <ID>.png (a missing
 *   file is reported when loading).
 * Class folders: root/<class>/<image> (.png .jpg .jpeg, any case; hidden
 *   entries, other files and deeper folders ignored; a folder without images
 *   is not a class). When root/train/ holds folders, root's subfolders must
 *   be train/, val/, test/, each holding class folders: the splits.
 * npz: train_images and train_labels required, val_* and test_* in pairs;
 *   images '|u1' (N,H,W) or (N,H,W,1|3); labels integers (N,), (N,1) or (N,C)
 *   0/1; zip members stored or deflated, ZIP64 refused.
 * idx: path is the images file (*images-idx3-ubyte[.gz]); the labels file
 *   has "labels-idx1" in its place (with or without .gz). Classes 0..9 (more
 *   if a label is larger).
 * CSV: every column but the target is a numeric feature ('?' or empty:
 *   missing); rows must have the same number of fields; fields may be quoted.
 * Errors: FOCAL_ERR_IO for a file that cannot be read; FOCAL_ERR_FORMAT
 * naming the file and line, column, key or value and what would be valid
 * (e.g. "labels.csv:17:9: column 'DR' has value '2'; expected 0 or 1"): wrong
 * column counts, labels other than 0/1, duplicate IDs, an npz with missing
 * keys or the wrong dtype, truncated files, non-numeric features, an empty
 * file; FOCAL_ERR_ARG for options that do not fit (an unknown label column,
 * listing the valid ones; merge_rare out of range). On failure *out is NULL
 * and nothing is left allocated. */
focal_status focal_dataset_open(const char *path, const struct focal_data_options *opt, struct focal_dataset **out);

/* How to turn image files into pixels. */
struct focal_image_options {
    int width, height;           /* target size */
    int fundus_crop;             /* crop to focal_image_fundus_box first */
    int skip_bad;                /* 1: drop samples whose image is missing or bad; 0: fail */
    const char *cache_dir;       /* NULL: no cache; made (with its parents) if missing */
    int threads;                 /* decoding threads; 0: focal_get_threads() */
    int channels;                /* 0: 3, or 1 when every image is gray; 3: always RGB;
                                    1: always gray (colour images become BT.601 luma) */
};

/* Called after each decoded image (done of total), from one thread at a time;
 * NULL for none. A load served from the cache calls it once (total, total). */
typedef void (*focal_progress_fn)(void *ctx, int done, int total);

/* Decodes, crops and resizes every image of d into d->pixels (HWC, 3
 * channels with gray images replicated, or 1 when every image is gray) and
 * sets d->height, width, channels, in parallel over samples; pixels already
 * there are replaced. With a cache_dir, the result is stored in
 * <cache_dir>/<key>.fcache under a key made of the files' paths, IDs, sizes,
 * modification times (ns) and inodes, the options (size, crop) and the
 * library version, and later calls with the same key read it instead of
 * decoding. A changed, new or deleted file changes the key, so it is decoded
 * (or reported missing) as without a cache; a cache file that is truncated,
 * corrupt (CRC-32) or does not match is ignored and rewritten. The cache is
 * written atomically and best effort (a failed write does not fail the
 * load, see focal_dataset_load_note); a cache_dir that cannot be made, or is
 * not a folder, is FOCAL_ERR_IO naming --cache none. A cache_dir that exists
 * but cannot be written still serves hits; misses are decoded and not saved.
 * Only decoded images and permanent failures (a malformed, oversized or
 * missing file) are cached: a load where an image failed for want of memory
 * or with a read error is not saved, so the next load decodes it again
 * (the environment variable FOCAL_TEST_DECODE_NOMEM, a comma-separated list
 * of sample indices, is a test hook making those samples fail so).
 * With skip_bad, bad samples are removed from every per-sample array of d and
 * the messages saying why (each naming the file) are returned in *skipped
 * (count *n_skipped; free each and the array; both may be NULL to discard
 * them); it fails only when no image can be read. Without, the first bad
 * image (lowest index) fails the call with its message (FOCAL_ERR_IO for a
 * missing file, FOCAL_ERR_FORMAT for a bad one). FOCAL_ERR_ARG for a dataset
 * without image paths or a size outside 1..FOCAL_IMAGE_MAX_SIDE. On failure d
 * is unchanged and *skipped is NULL. */
focal_status focal_dataset_load_images(struct focal_dataset *d, const struct focal_image_options *opt,
                                       focal_progress_fn progress, void *ctx,
                                       char ***skipped, int *n_skipped);

/* After the calling thread's last focal_dataset_load_images: a remark for
 * the user beyond its status, "" if none — that the cache folder cannot be
 * written, or a cache write failed, so decoded images were not saved. Owned
 * by the library, valid until the thread's next load. */
const char *focal_dataset_load_note(void);

/* 1 when the calling thread's last focal_dataset_load_images failed because
 * of one image that skip_bad would have left out (missing, unreadable or
 * malformed); 0 when it succeeded or failed otherwise (the cache folder,
 * memory, the options, no image readable at all). */
int focal_dataset_load_failed_on_image(void);

/* An unlabelled dataset of image files for prediction: each input is an image
 * file, or a folder whose .png/.jpg/.jpeg files (sorted by name) are taken;
 * ids are the file names without extension; num_classes 0, no labels, no
 * splits. FOCAL_ERR_IO for a folder that cannot be read or holds no images. */
focal_status focal_dataset_from_images(const char *const *inputs, int n_inputs, struct focal_dataset **out);

/* Per-sample positive counts for class j: binary/multi-class counts label == j;
 * multi-label counts labels[i][j]. Over the samples idx[0..n) (idx NULL: all
 * d->n samples, n ignored). counts receives num_classes values. */
void focal_dataset_class_counts(const struct focal_dataset *d, const int *idx, int n, double *counts);

/* Refuses, before anything is trained on it, a single-label (binary or
 * multi-class) dataset whose samples all belong to one class — a folder of
 * class folders with one folder, labels that are all the same — since no
 * classifier or metric can be made of it. FOCAL_ERR_FORMAT naming `origin`
 * (the data's path; NULL: "dataset"), the class and its sample count; FOCAL_OK
 * for two or more classes with samples, and for multi-label data. */
focal_status focal_dataset_check_classes(const struct focal_dataset *d, const char *origin);

/* ------------------------------------------------------------------------ */
/* Splits and sampling                                                       */
/* ------------------------------------------------------------------------ */

/* Splits are stratified by class, seeded, and depend only on the samples'
 * labels, their order in idx, the fractions and the seed. One algorithm
 * serves every task: iterative stratification (Sechidis, Tsoumakas and
 * Vlahavas 2011). Each split (fold) wants its fraction of the samples and of
 * every label's positives; labels are taken in order of fewest positives still
 * unplaced (lowest index first), and each unplaced positive of the label, in a
 * seeded random order, goes to the split that still wants most of that label,
 * ties broken by the split that still wants most samples overall, then at
 * random. Samples with no positive label go last, each to the split that still
 * wants most samples. For binary and multi-class data this deals each class's
 * shuffled members out so that every split's count of every class differs
 * from its exact share by less than one; split sizes are the sums of those
 * counts. A split with fraction 0 receives no sample.
 *
 * Both functions take the samples as idx[0..n) (indices into d; NULL: 0..n-1)
 * and use d's task, n, num_classes and label or labels. They fail with
 * FOCAL_ERR_ARG for an index outside d, a class outside 0..num_classes-1 or a
 * bad fraction or fold count, and FOCAL_ERR_NOMEM; the output is then
 * unspecified. The dataset's own splits (d->split) are not consulted: a caller
 * that has them uses them instead. */

/* split_out[k] receives the enum focal_split of sample idx[k]: train with
 * fraction 1 − val_frac − test_frac, val_frac, test_frac. Needs
 * val_frac, test_frac >= 0 and val_frac + test_frac < 1. */
focal_status focal_split_stratified(const struct focal_dataset *d, const int *idx, int n,
                                    double val_frac, double test_frac, uint64_t seed, uint8_t *split_out);

/* fold_out[k] receives the fold (0..folds-1) of sample idx[k], each fold
 * wanting 1/folds of everything. Needs 2 <= folds <= n. */
focal_status focal_split_kfold(const struct focal_dataset *d, const int *idx, int n, int folds,
                               uint64_t seed, int *fold_out);

enum focal_sampler {
    FOCAL_SAMPLER_SHUFFLE,         /* each sample once per epoch, shuffled; any task */
    FOCAL_SAMPLER_OVERSAMPLE,      /* binary/multi-class: every class grows to the largest class's
                                      size m: each member floor(m/c) times plus m mod c distinct
                                      members drawn once more */
    FOCAL_SAMPLER_UNDERSAMPLE,     /* binary/multi-class: m distinct members drawn from every class,
                                      m the smallest non-empty class's size */
    FOCAL_SAMPLER_CLASS_BALANCED,  /* n draws, each of a class uniformly among the non-empty ones,
                                      then of one of its members uniformly (with replacement).
                                      Multi-label: of a label among those with positives, then of
                                      one of its positives; the samples with no positive label form
                                      one more group, drawn like a label */
    FOCAL_SAMPLER_REPEAT_FACTOR    /* any task, meant for multi-label (LVIS): sample i appears
                                      floor(r_i) times plus once more with probability
                                      r_i − floor(r_i), r_i = max over its labels j of
                                      max(1, sqrt(t / f_j)), f_j the fraction of the samples with
                                      label j; r_i = 1 without a positive label */
};
/* Parses "shuffle", "oversample", "undersample", "class-balanced", "repeat-factor";
 * FOCAL_ERR_ARG (message lists the valid names) if unknown. */
focal_status focal_sampler_parse(const char *name, enum focal_sampler *out);
/* The name above, or "unknown" for a value outside the enum. */
const char *focal_sampler_name(enum focal_sampler s);

/* One epoch's order over the training samples idx[0..n) (NULL: 0..n-1): a new
 * array *order (caller frees) of *len sample indices (values from idx), in a
 * random order. Deterministic: it depends only on (kind, the samples' labels
 * and their order in idx, seed, epoch); each epoch draws independently of
 * the others, so its order can be recomputed, e.g. after a resume. *len is n for shuffle and class-balanced, classes × the largest
 * (oversample) or smallest (undersample) class's size, and about Σ r_i for
 * repeat-factor. repeat_threshold is t for repeat-factor sampling (a fraction
 * of the samples, e.g. 0.1; > 0; ignored by the others). Per-class counts of
 * an order: focal_dataset_class_counts(d, *order, *len, counts).
 * FOCAL_ERR_ARG, with *order NULL and *len 0, for n < 1, over- or
 * undersampling of multi-label data, a bad threshold, an index or class out of
 * range, or an epoch longer than INT_MAX; FOCAL_ERR_NOMEM. */
focal_status focal_sampler_epoch(enum focal_sampler kind, const struct focal_dataset *d, const int *idx, int n,
                                 uint64_t seed, int epoch, double repeat_threshold, int **order, int *len);

/* A long-tailed subset of the single-label samples idx[0..n) (the usual
 * protocol for long-tailed benchmarks such as long-tailed MNIST/CIFAR): class
 * c keeps floor(n_max · ρ^(−c/(C−1))) of its samples (at least 1, at most all),
 * n_max being the largest class's count among them, drawn with seed. out (room
 * for n) receives the kept samples in their order in idx, *n_out their count.
 * FOCAL_ERR_ARG for multi-label data or ρ < 1. */
focal_status focal_long_tail_subset(const struct focal_dataset *d, const int *idx, int n, double rho, uint64_t seed,
                                    int *out, int *n_out);

#ifdef __cplusplus
}
#endif

#endif /* FOCAL_DATA_H */
