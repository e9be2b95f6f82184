import type { ServerResponse } from 'node:http';
import { sendJson } from '../shared/send-json.js';

/**
 * PicWish's error answer, shared by the routes (and the tests' PicWish double), so every error
 * carries PicWish's shape: the same code in the HTTP status and in the JSON `status` field.
 */

/** Sends PicWish's error shape `{status, message}`. */
export function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { status, message }, headers);
}
