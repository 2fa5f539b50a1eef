import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The shared UCI files live beside the project, never inside it. */
export const dataDir = process.env.UCI_DATA_DIR ?? path.resolve(repoRoot, '../shared/data/uci-heart-disease');
export const clevelandFile = path.join(dataDir, 'processed.cleveland.data');
export const hungarianFile = path.join(dataDir, 'processed.hungarian.data');
