// SPDX-License-Identifier: Apache-2.0
// An allocation-heavy "service" for recording heap traces: it churns through
// short-lived buffers (the sawtooth of a collected heap) and, when asked,
// leaks a little of what it allocates (a cache that never evicts). Every
// period it prints "<millis since start> <heap used bytes>" from the JVM's
// own MemoryMXBean.
//
//   java LeakyService <seconds> <leak bytes per second> <sample millis>
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

public final class LeakyService {
  public static void main(String[] args) throws Exception {
    double seconds = Double.parseDouble(args[0]);
    long leakPerSecond = Long.parseLong(args[1]);
    long sampleMillis = Long.parseLong(args[2]);
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    long start = System.nanoTime();
    Thread sampler = new Thread(() -> {
      try {
        while (true) {
          long elapsed = (System.nanoTime() - start) / 1_000_000;
          System.out.println(elapsed + " " + memory.getHeapMemoryUsage().getUsed());
          System.out.flush();
          Thread.sleep(sampleMillis);
        }
      } catch (InterruptedException e) {
        // done
      }
    });
    sampler.setDaemon(true);
    sampler.start();

    Random random = new Random(42);
    byte[][] working = new byte[2048][];  // recent requests' buffers, overwritten at random
    List<byte[]> leaked = new ArrayList<>();
    long leakedBytes = 0;
    long deadline = start + (long) (seconds * 1e9);
    long checksum = 0;
    while (System.nanoTime() < deadline) {
      // One "request": a few buffers, most of them garbage right away.
      for (int i = 0; i < 64; i++) {
        byte[] b = new byte[512 + random.nextInt(8192)];
        b[random.nextInt(b.length)] = (byte) i;
        checksum += b[0];
        working[random.nextInt(working.length)] = b;
      }
      double elapsed = (System.nanoTime() - start) / 1e9;
      while (leakedBytes < leakPerSecond * elapsed) {
        byte[] kept = new byte[4096];
        leaked.add(kept);
        leakedBytes += kept.length;
      }
      Thread.sleep(15);  // pace the allocation rate: a young collection every second or two
    }
    System.err.println("leaked " + leakedBytes + " bytes in " + leaked.size() + " buffers, checksum " + checksum);
  }
}
