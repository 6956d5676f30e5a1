/*
 * focal.h — the public interface of libfocal.
 *
 * libfocal computes classification losses for class-imbalanced data — focal
 * loss and its relatives — together with their exact gradients, in one fused
 * pass over float32 (or float64) logits. Every loss here is checked against
 * PyTorch/torchvision reference values and against finite differences.
 *
 * Conventions
 *   - Matrices are row-major: logits[i*c + j] is sample i, class j.
 *   - Functions return a focal_status; on failure focal_last_error() holds a
 *     message for the calling thread that names the offending value.
 *   - Nothing in the library prints, exits or keeps global state other than the
 *     per-thread error message.
 *
 * Worked example: sigmoid focal loss, α = 0.25, γ = 2, mean over elements.
 *
 *     struct focal_loss l;
 *     focal_loss_init(&l, FOCAL_LOSS_SIGMOID_FOCAL);   // γ = 2, reduction mean
 *     l.alpha = 0.25;
 *     float x[2*3] = { 0.5f, -1.0f, 3.0f,   2.0f, 0.0f, -4.0f };
 *     float y[2*3] = { 1,     0,     0,      1,    -1,    0    };  // -1: ignored
 *     float g[2*3];
 *     double loss;
 *     if (focal_sigmoid_loss(&l, 2, 3, x, y, g, NULL, &loss) != FOCAL_OK)
 *         fprintf(stderr, "focal: %s\n", focal_last_error());
 *     // loss = mean over the 5 counted elements; g = d loss / d x (0 where ignored)
 *
 * Build against it with `pkg-config --cflags --libs focal` or CMake's
 * `find_package(focal)` and the target `focal::focal`.
 *
 * Contents — one header per subsystem, each usable on its own; this file
 * includes them all. From the bottom layer up:
 *   focal/base.h   status and errors, version, threads, tasks, CSV matrices,
 *                  the atomic file writer
 *   focal/loss.h   the losses (sigmoid and softmax families), class weights,
 *                  output-bias initialisation
 *   focal/image.h  decoding, resizing, cropping, fundus box; augmentation
 *   focal/eval.h   metrics (scikit-learn's definitions), the RIADD score
 *   focal/data.h   datasets and their readers, image loading and cache,
 *                  splits, samplers, the synthetic fundus set
 *   focal/nn.h     networks, optimisers, checkpoints; the caller's sums
 *                  over processes (struct focal_comm) and batch norm
 *                  synchronised over them
 *   focal/train.h  the training step (also one rank's of a data-parallel
 *                  step); training runs, also data-parallel over ranks,
 *                  loading, predicting and evaluating a finished run (with
 *                  test-time flips), ensembles of runs, a second stage
 *                  retraining a run's classifier
 * A program that uses only the losses includes "focal/loss.h" and needs
 * none of the image, BLAS or oneDNN libraries (see the README's "Installed
 * targets").
 *
 * Ownership: a function named *_free takes a pointer to an object the
 * library allocated and frees the object itself (focal_model_free,
 * focal_dataset_free, ...); a function named *_release takes a struct the
 * caller owns and frees what the library put inside it, zeroing it
 * (focal_image_release, focal_metrics_release, ...). Both are safe on NULL
 * and on zeroed memory.
 */
#ifndef FOCAL_H
#define FOCAL_H

#include "focal/base.h"
#include "focal/loss.h"
#include "focal/image.h"
#include "focal/eval.h"
#include "focal/data.h"
#include "focal/nn.h"
#include "focal/train.h"

/* The names of 0.1 for the functions that release a caller-owned struct's
 * contents, kept for one version. */
#if defined(__GNUC__)
#define FOCAL_DEPRECATED(use) __attribute__((deprecated("use " use)))
#else
#define FOCAL_DEPRECATED(use)
#endif
FOCAL_DEPRECATED("focal_csv_release")
static inline void focal_csv_free(struct focal_csv_matrix *m) { focal_csv_release(m); }
FOCAL_DEPRECATED("focal_image_release")
static inline void focal_image_free(struct focal_image *img) { focal_image_release(img); }
FOCAL_DEPRECATED("focal_metrics_release")
static inline void focal_metrics_free(struct focal_metrics *m) { focal_metrics_release(m); }
FOCAL_DEPRECATED("focal_ckpt_meta_release")
static inline void focal_ckpt_meta_free(struct focal_ckpt_meta *meta) { focal_ckpt_meta_release(meta); }
FOCAL_DEPRECATED("focal_run_release")
static inline void focal_run_free(struct focal_run *r) { focal_run_release(r); }

#endif /* FOCAL_H */
