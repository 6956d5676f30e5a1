/* netcheck.c — builds a network from a description file, as `focal train
 * --model FILE` would, so that a network description shown in the README is
 * known to parse and to fit its input.
 * Usage: netcheck FILE C H W CLASSES [ORIGIN]   (ORIGIN names FILE in messages)
 * Prints the parameter count; exits 1 with the library's message otherwise. */
#include <focal.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 6 && argc != 7) {
        fprintf(stderr, "usage: netcheck FILE C H W CLASSES [ORIGIN]\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    struct focal_model *m;
    const char *origin = argc == 7 ? argv[6] : argv[1];
    if (focal_model_create(&m, text, origin, atoi(argv[2]), atoi(argv[3]), atoi(argv[4]),
                           atoi(argv[5]), FOCAL_HEAD_SIGMOID, 2) != FOCAL_OK) {
        fprintf(stderr, "%s\n", focal_last_error());
        return 1;
    }
    printf("%zu parameters\n", focal_model_num_params(m));
    focal_model_free(m);
    return 0;
}
