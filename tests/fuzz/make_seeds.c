/* make_seeds.c — writes the seeds of the harnesses whose inputs the library
 * itself must make (checkpoints, optimiser states, image cache entries, run
 * descriptions), into <out>/<harness>/, from the same fixed model and images
 * the harnesses use. Run by hand when a format changes:
 *   build/tests/fuzz_make_seeds tests/fuzz/corpus
 * The text and image seeds are plain files committed beside them. */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include "fuzz_model.h"

static const char *out_dir;

static const char *out_path(const char *harness, const char *name)
{
    static char buf[2][1024];
    static int k;
    k ^= 1;
    snprintf(buf[k], sizeof buf[k], "%s/%s", out_dir, harness);
    mkdir(buf[k], 0755);
    snprintf(buf[k], sizeof buf[k], "%s/%s/%s", out_dir, harness, name);
    return buf[k];
}

/* Copies the file at from to to, with `prefix` (may be NULL) before it. */
static void copy_file(const char *from, const char *to, const char *prefix)
{
    char *text;
    size_t len;
    FUZZ_ASSERT(focal_read_file(from, 1, &text, &len) == FOCAL_OK);
    FILE *f = fopen(to, "wb");
    FUZZ_ASSERT(f != NULL);
    if (prefix)
        fputs(prefix, f);
    fwrite(text, 1, len, f);
    FUZZ_ASSERT(fclose(f) == 0);
    free(text);
}

static void checkpoints(void)
{
    struct focal_model *m = fuzz_model_new();
    struct focal_ckpt_meta meta;
    memset(&meta, 0, sizeof meta);
    char *names[3] = { "DR", "MH", "OTHER" };
    meta.epoch = 3;
    meta.seed = 42;
    meta.channels = 1;
    meta.mean[0] = 0.5f;
    meta.std[0] = 0.25f;
    meta.num_classes = 3;
    meta.class_names = names;
    meta.extra = "{\"note\": \"seed\"}";
    FUZZ_ASSERT(focal_checkpoint_save(out_path("checkpoint", "meta.safetensors"), m, &meta) == FOCAL_OK);
    FUZZ_ASSERT(focal_checkpoint_save(out_path("checkpoint", "bare.safetensors"), m, NULL) == FOCAL_OK);
    focal_model_free(m);

    const char *descs[2] = { "block 2 stride=2\nmaxpool 2\ngap\ndense classes bias=0\n",
                             "avgpool 2 stride=1 pad=1\nleakyrelu slope=0.2\nflatten\ndense classes\n" };
    for (int k = 0; k < 2; k++) {
        FUZZ_ASSERT(focal_model_create(&m, descs[k], "seed", 2, 4, 4, 2, k ? FOCAL_HEAD_SIGMOID : FOCAL_HEAD_SOFTMAX,
                                       1) == FOCAL_OK);
        FUZZ_ASSERT(focal_model_init(m, 1, 0.0) == FOCAL_OK);
        FUZZ_ASSERT(focal_checkpoint_save(out_path("checkpoint", k ? "pool.safetensors" : "block.safetensors"), m,
                                          NULL) == FOCAL_OK);
        focal_model_free(m);
    }
}

static void optim_states(void)
{
    struct focal_model *m = fuzz_model_new();
    const size_t n = focal_model_num_params(m);
    float *w = malloc(n * sizeof *w);
    FUZZ_ASSERT(w != NULL);
    memcpy(w, focal_model_params(m), n * sizeof *w);
    const enum focal_optim_kind kinds[2] = { FOCAL_OPTIM_ADAM, FOCAL_OPTIM_SGD };
    for (int k = 0; k < 2; k++) {
        struct focal_optim *o = fuzz_optim_new(m, kinds[k]);
        FUZZ_ASSERT(focal_optim_save(out_path("optim", k ? "sgd0.safetensors" : "adam0.safetensors"), o) == FOCAL_OK);
        /* two steps on made-up gradients, then the weights put back: moments
         * that are not zero, with the fingerprint of the harness's model */
        for (int s = 0; s < 2; s++) {
            float *g = focal_model_grads(m);
            for (size_t i = 0; i < n; i++)
                g[i] = (float)((int)(i % 7) - 3) * 0.125f;
            FUZZ_ASSERT(focal_optim_step(o, NULL) == FOCAL_OK);
        }
        memcpy(focal_model_params(m), w, n * sizeof *w);
        FUZZ_ASSERT(focal_optim_save(out_path("optim", k ? "sgd2.safetensors" : "adam2.safetensors"), o) == FOCAL_OK);
        focal_optim_free(o);
    }
    free(w);
    focal_model_free(m);
}

static void run_descriptions(void)
{
    static const char *const texts[] = {
        "{\"format\": \"focal-run\", \"version\": 1, \"task\": \"multilabel\", \"class_names\": [\"a\", \"b\", \"c\"],"
        " \"thresholds\": [0.25, 0.5, 0.75], \"input\": [1, 4, 4], \"fundus_crop\": false}\n",
        "{\"format\": \"focal-run\", \"version\": 1, \"task\": \"multilabel\", \"thresholds\": [0.5, 0.5, 0.5],"
        " \"fundus_crop\": true}\n",
        "{\"format\": \"focal-run\", \"version\": 1, \"task\": \"multilabel\", \"thresholds\": [1e-3, null, \"x\"]}\n",
        "{\"format\": \"focal-run\", \"version\": 2, \"task\": \"multilabel\", \"thresholds\": [0.5, 0.5, 0.5]}\n",
        "{\"format\": \"focal-run\", \"version\": 1, \"task\": \"regression\", \"thresholds\": []}\n",
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        char name[32];
        snprintf(name, sizeof name, "run%zu.json", i);
        FILE *f = fopen(out_path("runjson", name), "wb");
        FUZZ_ASSERT(f != NULL);
        fputs(texts[i], f);
        FUZZ_ASSERT(fclose(f) == 0);
    }
}

/* The image cache entry of the imgcache harness's two images, as its
 * "fix up" (byte 0 = 1) and "as it is" (byte 0 = 0) inputs. */
static void cache_entries(void)
{
    mkdir(fuzz_path("img"), 0700);
    uint8_t px[8 * 8 * 3];
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < (int)sizeof px; i++)
            px[i] = (uint8_t)(i * (k ? 7 : 3) + k * 50);
        struct focal_image img = { 8, 8, 3, px };
        FUZZ_ASSERT(focal_image_write_png(fuzz_path(k ? "img/b.png" : "img/a.png"), &img) == FOCAL_OK);
    }
    const char *inputs[1] = { fuzz_path("img") };
    struct focal_dataset *d;
    FUZZ_ASSERT(focal_dataset_from_images(inputs, 1, &d) == FOCAL_OK);
    struct focal_image_options opt;
    memset(&opt, 0, sizeof opt);
    opt.width = opt.height = 4;
    opt.skip_bad = 1;
    opt.threads = 1;
    opt.cache_dir = fuzz_path("cache");
    FUZZ_ASSERT(focal_dataset_load_images(d, &opt, NULL, NULL, NULL, NULL) == FOCAL_OK);
    focal_dataset_free(d);
    DIR *dir = opendir(fuzz_path("cache"));
    FUZZ_ASSERT(dir != NULL);
    struct dirent *e;
    char entry[1024] = "";
    while ((e = readdir(dir)))
        if (strstr(e->d_name, ".fcache"))
            snprintf(entry, sizeof entry, "%s/cache/%s", fuzz_dir(), e->d_name);
    closedir(dir);
    FUZZ_ASSERT(entry[0] != '\0');
    copy_file(entry, out_path("imgcache", "fixup.bin"), "\x01");
    copy_file(entry, out_path("imgcache", "asis.bin"), "\x02");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    out_dir = argv[1];
    mkdir(out_dir, 0755);
    (void)fuzz_dir(); /* scratch folder; one thread */
    checkpoints();
    optim_states();
    run_descriptions();
    cache_entries();
    printf("wrote seeds under %s\n", out_dir);
    return 0;
}
