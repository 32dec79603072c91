/**
 * glibc malloc settings for the relay and agent processes, set by every launcher we ship (the
 * relay's container image, `npm start`, the VS Code extension, the benchmark).
 *
 * Why: a tunnel moves bulk bodies through short-lived 64-256 KiB buffers. With glibc's defaults,
 * freed heap memory above 128 KiB is handed back to the kernel at once (trim) and buffers of
 * 256 KiB are mapped afresh for each read (mmap), so every buffer costs page faults and zeroing.
 * After a burst of many connections fragments the heap this grew to 2-3x the relay's CPU per
 * 100 MiB download on our 2-core VMs (see README, "Benchmark"). Keeping up to 128 MiB of freed
 * memory and serving buffers below 4 MiB from the heap lets them be reused.
 *
 * Both settings are needed: trim alone turns off glibc's adaptive mmap threshold (so every
 * 256 KiB buffer is mapped afresh), mmap alone leaves the trimming.
 */
export const GLIBC_MALLOC_TUNABLES = 'glibc.malloc.mmap_threshold=4194304:glibc.malloc.trim_threshold=134217728';

/** `env` with the malloc settings added, unless the user set GLIBC_TUNABLES themselves. */
export function withMallocTunables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (env.GLIBC_TUNABLES !== undefined) return env;
  return { ...env, GLIBC_TUNABLES: GLIBC_MALLOC_TUNABLES };
}
