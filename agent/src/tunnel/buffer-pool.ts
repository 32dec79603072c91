/**
 * Node hands out small Buffers (Buffer.from, allocUnsafe under half the pool size) as slices of
 * one shared pool of Buffer.poolSize bytes (8 KiB by default), and allocates a new pool when it
 * runs out. A tunnel carrying ~1 KiB answers fills an 8 KiB pool every few requests (each answer
 * is copied into the batch once, each batch allocated once), so allocating pools showed in the
 * agent's c50 profile; a 64 KiB pool makes that eight times rarer and serves batches up to 32 KiB
 * from the pool instead of their own buffers. Slices are short-lived (sent, then dropped), so
 * what stays pinned is a pool or two: nothing next to the agent's other memory.
 */
const TUNNEL_BUFFER_POOL_BYTES = 64 * 1024;

/** Called once the process is going to carry a tunnel (not for one-shot CLI commands). */
export function useTunnelBufferPool(): void {
  if (Buffer.poolSize < TUNNEL_BUFFER_POOL_BYTES) Buffer.poolSize = TUNNEL_BUFFER_POOL_BYTES;
}
