import { type ServerResponse, STATUS_CODES } from 'node:http';
import { sendJson } from '../shared/send-json.js';

/**
 * Answer writers shared by the routes and the fault switches, so every error carries PicWish's
 * shape: the same code in the HTTP status and in the JSON `status` field.
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

/** Sends an HTML error page like the one a proxy in front of an API answers with. */
export function sendHtmlError(res: ServerResponse, status: number): void {
  const title = `${status} ${STATUS_CODES[status] ?? 'Error'}`;
  const page = `<!DOCTYPE html>\n<html><head><title>${title}</title></head><body><center><h1>${title}</h1></center><hr><center>nginx</center></body></html>\n`;
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(page),
  });
  res.end(page);
}
