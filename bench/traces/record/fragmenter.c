// SPDX-License-Identifier: Apache-2.0
// A process whose resident memory grows through fragmentation, not through
// more live data: each round it allocates many small blocks, frees all but
// every 16th (pinning the pages they sit on), and frees the oldest pinned
// blocks so the live set stays bounded; the next round's blocks are a bit
// larger and fit only partly in the holes. Deterministic (fixed seed).
//
//   fragmenter <seconds>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUND_BLOCKS 20000
#define PINNED_MAX 60000

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 30;
  static void* round_blocks[ROUND_BLOCKS];
  static void* pinned[PINNED_MAX];
  size_t pinned_head = 0, pinned_count = 0;
  unsigned seed = 12345;
  double start = now();
  size_t base = 48;
  while (now() - start < seconds) {
    for (int i = 0; i < ROUND_BLOCKS; ++i) {
      size_t size = base + (rand_r(&seed) % (base * 2));
      round_blocks[i] = malloc(size);
      memset(round_blocks[i], i & 0xff, size);
    }
    for (int i = 0; i < ROUND_BLOCKS; ++i) {
      if (i % 16 == 0 && pinned_count < PINNED_MAX) {
        pinned[(pinned_head + pinned_count++) % PINNED_MAX] = round_blocks[i];
      } else {
        free(round_blocks[i]);
      }
    }
    // Bound the live set: the oldest pinned blocks go.
    while (pinned_count > PINNED_MAX / 2) {
      free(pinned[pinned_head]);
      pinned_head = (pinned_head + 1) % PINNED_MAX;
      --pinned_count;
    }
    base += 1;  // slowly growing requests fit the old holes less and less
    struct timespec pause = {0, 20 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }
  return 0;
}
