import { open } from 'node:fs/promises';
import { fileTooLargeMessage, MANIFEST_MAX_BYTES } from '../shared/domain/manifest/limits';
import { KilnError } from '../shared/runtime/errors';

/** A manifest file is larger than manifests may be; it was not read. */
export class ManifestFileTooLargeError extends KilnError {
  constructor(readonly bytes: number) {
    super(fileTooLargeMessage(bytes));
  }
}

/**
 * Reads a manifest file as UTF-8, refusing from its size on disk a file too big to be a manifest,
 * so a stray multi-gigabyte file is never read into memory. (The validator checks the byte length
 * of the text again, which covers pipes and other files without a size.)
 */
export async function readManifestFile(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size > MANIFEST_MAX_BYTES) throw new ManifestFileTooLargeError(size);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/** The text of a manifest file, or one line saying why it could not be read. */
export async function readManifestText(
  path: string,
  read: (path: string) => Promise<string>,
): Promise<{ text: string } | { problem: string }> {
  try {
    return { text: await read(path) };
  } catch (error) {
    if (error instanceof ManifestFileTooLargeError) return { problem: error.message };
    // Duck-typed: errors from node:fs may come from another realm (e.g. under jest's vm).
    const reason =
      typeof error === 'object' && error !== null && 'message' in error
        ? String(error.message)
        : String(error);
    return { problem: `cannot read file: ${reason}` };
  }
}
