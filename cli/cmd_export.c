/* cmd_export.c — `focal export RUNDIR --onnx FILE`: a trained run as an ONNX
 * model for other runtimes (see export/onnx.h). */
#include <stdio.h>
#include <string.h>

#include "focal.h"
#include "args.h"
#include "commands.h"
#if FOCAL_HAVE_ONNX
#include "export/onnx.h"
#endif

enum { E_HELP, E_MODEL, E_ONNX, E_QUIET };

static const struct cli_opt export_opts[] = {
    { "--help", 0, E_HELP }, { "--model", 1, E_MODEL }, { "--onnx", 1, E_ONNX }, { "--quiet", 0, E_QUIET },
};

void cmd_export_help(FILE *fp)
{
    fputs(
"Usage: focal export RUNDIR --onnx FILE [--quiet]\n"
"\n"
"Writes the best model of a run folder (from 'focal train') as one ONNX graph\n"
"(opset 13, any batch size) that computes what 'focal predict' computes: the\n"
"input normalisation, the network in inference mode (dropout left out, batch\n"
"norm with its running statistics) and the output activation. Any ONNX\n"
"runtime can then score images: ONNX Runtime from Python, JavaScript, C#,\n"
"Java or C++, without focal.\n"
"\n"
"The graph\n"
"  input  \"input\", float32, before normalisation:\n"
"         images: [N, C, H, W], the run's C x H x W (metadata 'input_size'),\n"
"           one plane per channel, rows top to bottom;\n"
"           channels R, G, B (C = 3) or one gray channel (C = 1, BT.601 luma\n"
"           of a colour image); each value pixel/255, in [0, 1]; the image\n"
"           decoded, cropped to the fundus if the run was trained so\n"
"           ('fundus_crop'), and resized to W x H by area averaging, as\n"
"           focal predict does;\n"
"         tables (a network whose input is F x 1 x 1, e.g. the mlp preset):\n"
"           [N, F], the raw feature values in the CSV's column order\n"
"           (target left out); NaN for a missing value, which becomes the\n"
"           training mean as in focal.\n"
"         The graph applies (x - mean) / std per channel or feature itself.\n"
"  output \"probabilities\", float32 [N, K]: the sigmoid of each logit for\n"
"         binary (K = 1, the positive class) and multi-label runs; the\n"
"         softmax over the K classes for multi-class runs. The logits are the\n"
"         value \"logits\" inside the graph. A run trained with --posthoc-la\n"
"         adds its post-hoc shift -tau*log(prior) (run.json's posthoc_la) to\n"
"         them as a constant before the softmax (\"adjusted_logits\").\n"
"  metadata (JSON values): class_names, thresholds (the decision threshold of\n"
"         each output, chosen on validation; multi-class runs take the\n"
"         highest probability instead), task, head, input, input_size\n"
"         [C, H, W], mean, std, fundus_crop, network (the description),\n"
"         posthoc_la_tau (a run with post-hoc logit adjustment).\n"
"Weights keep their PyTorch names (\"0.weight\", \"4.conv1.weight\", ...).\n"
"\n"
"Options\n"
"  RUNDIR, --model RUNDIR  the run folder (model.safetensors and run.json).\n"
"  --onnx FILE             the ONNX file to write (atomically).\n"
"  --quiet                 print nothing on success.\n"
"\n"
"Example\n"
"  focal export runs/focal --onnx model.onnx\n", fp);
}

int cmd_export(int argc, char **argv)
{
    struct cli_parser p = { argc, argv, 1, "export", export_opts, sizeof export_opts / sizeof export_opts[0] };
    const char *dir = NULL, *onnx = NULL, *v;
    int quiet = 0;
    while (p.i < argc) {
        const char *a = argv[p.i];
        if (a[0] != '-' || strcmp(a, "-") == 0) {
            if (dir) {
                cli_error("export: unexpected argument '%s'; expected one run folder (see 'focal export --help')", a);
                return CLI_EXIT_USAGE;
            }
            dir = a;
            p.i++;
            continue;
        }
        int id = cli_next(&p, &v);
        if (id == CLI_BAD)
            return CLI_EXIT_USAGE;
        if (id == E_HELP) {
            cmd_export_help(stdout);
            return CLI_EXIT_OK;
        }
        if (id == E_MODEL) {
            if (dir) {
                cli_error("export: the run folder is given twice ('%s' and '%s')", dir, v);
                return CLI_EXIT_USAGE;
            }
            dir = v;
        } else if (id == E_ONNX) {
            onnx = v;
        } else if (id == E_QUIET) {
            quiet = 1;
        }
    }
    if (!dir || !*dir || !onnx || !*onnx) {
        cli_error("export: %s is required; usage: focal export RUNDIR --onnx FILE", !dir || !*dir ? "RUNDIR" : "--onnx FILE");
        return CLI_EXIT_USAGE;
    }
#if FOCAL_HAVE_ONNX
    struct focal_run run = { 0 };
    if (focal_run_load(&run, dir, 1) != FOCAL_OK) {
        cli_error("%s", focal_last_error());
        return CLI_EXIT_DATA;
    }
    struct export_onnx_summary s;
    char err[1024];
    int status = CLI_EXIT_OK;
    if (export_onnx(&run, onnx, &s, err, sizeof err) != 0) {
        cli_error("export: %s", err);
        status = CLI_EXIT_DATA;
    } else if (!quiet) {
        const int k = focal_model_classes(run.model);
        printf("wrote %s: ONNX opset %d, %d nodes, %d weight tensors, %.1f kB\n", onnx, s.opset, s.nodes,
               s.initializers, (double)s.bytes / 1024.0);
        if (s.table)
            printf("input \"input\" float32 [N, %d] (raw features); ", run.channels);
        else
            printf("input \"input\" float32 [N, %d, %d, %d] (pixel/255); ", run.channels, run.height, run.width);
        printf("output \"probabilities\" float32 [N, %d] (%s)\n", k,
               focal_model_head(run.model) == FOCAL_HEAD_SOFTMAX ? "softmax" : "sigmoid");
    }
    focal_run_release(&run);
    return status;
#else
    (void)quiet;
    cli_error("export: this focal was built without ONNX export; install libprotobuf-c-dev, protobuf-c-compiler "
              "and libonnx-dev (scripts/deps.sh) and rebuild");
    return CLI_EXIT_DATA;
#endif
}
