/** What the image checks hold an image to. */

/** Largest acceptable image (bytes). */
export const MAX_IMAGE_BYTES = 300 * 1000 * 1000;
/** Seconds `docker stop` waits after SIGTERM before SIGKILL; the API must drain and exit 0 within it. */
export const STOP_GRACE_S = 10;
