/* onnx.h — a trained run as one ONNX model: the input normalisation, the
 * network in inference mode and the output activation, with the run's class
 * names and thresholds in the model's metadata.
 *
 * This is the interface of export/, a library of the focal program (not part
 * of libfocal, which stays free of protobuf) built on libfocal's public
 * headers. The model is assembled as onnx.proto messages (the onnx.proto
 * libonnx-dev ships, compiled by protoc-c at build time) and serialised by
 * libprotobuf-c. It prints nothing: failures come back as a message.
 *
 * The graph (opset 13, IR version 7, batch size free):
 *   input "input", float32:
 *     images  [N, C, H, W]: the decoded, cropped and resized image as focal
 *             predict makes it, channels R, G, B (or one gray channel), each
 *             value pixel/255 in [0, 1], before normalisation;
 *     tables  [N, F] (a model whose input is F x 1 x 1): the raw features,
 *             NaN for a missing value (it becomes the training mean, as in
 *             focal).
 *   normalisation: (x - mean)/std per channel (feature), from the checkpoint;
 *   the layers, one or a few nodes each (dropout is left out);
 *   output "probabilities", float32 [N, K]: Sigmoid of the logits for binary
 *     (K = 1, the positive class) and multi-label runs, Softmax over the
 *     classes for multi-class runs; a run with post-hoc logit adjustment
 *     (struct focal_run's logit_shift) adds its shift, a constant
 *     "logit_shift" [K], to the logits before the Softmax (Add ->
 *     "adjusted_logits").
 * Metadata (metadata_props; values are JSON): class_names, thresholds, task,
 * head, input (a sentence saying the above), input_size [C, H, W], mean, std,
 * fundus_crop, network (the description text), and posthoc_la_tau (the τ)
 * for a run with post-hoc logit adjustment.
 */
#ifndef FOCAL_EXPORT_ONNX_H
#define FOCAL_EXPORT_ONNX_H

#include <stddef.h>

#include "focal/train.h"

/* What export_onnx wrote. */
struct export_onnx_summary {
    int opset;               /* the ai.onnx opset the model imports */
    int nodes;               /* nodes in the graph */
    int initializers;        /* weight tensors */
    size_t bytes;            /* size of the file */
    int table;               /* 1: the input is [N, F] features; 0: [N, C, H, W] images */
};

/* Writes the run r (loaded with focal_run_load) as an ONNX model to path,
 * atomically. The layers are read from the model's description (their kinds
 * and lines as focal_model_layer_time reports them) and their weights from
 * focal_model_tensor by PyTorch name. Returns 0 (and fills *sum, which may be
 * NULL), or -1 with a message in err (errlen bytes, always terminated): a
 * layer or tensor the exporter does not know, a tensor of an unexpected
 * shape, no memory, or a file that cannot be written (nothing is left at
 * path then). */
int export_onnx(const struct focal_run *r, const char *path, struct export_onnx_summary *sum, char *err,
                size_t errlen);

#endif
