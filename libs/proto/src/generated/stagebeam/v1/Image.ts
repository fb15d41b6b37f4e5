// Original file: proto/stagebeam/v1/reasoner.proto


export interface Image {
  /**
   * The encoded image (PNG, JPEG, GIF or WebP).
   */
  'data'?: (Buffer | Uint8Array | string);
  /**
   * An http(s) URL (the gateway fetches it once, checks it and sends the bytes on), or a base64 data: URL.
   */
  'url'?: (string);
  /**
   * Optional; sniffed from the bytes when empty.
   */
  'mimeType'?: (string);
  'source'?: "data"|"url";
}

export interface Image__Output {
  /**
   * The encoded image (PNG, JPEG, GIF or WebP).
   */
  'data'?: (Buffer);
  /**
   * An http(s) URL (the gateway fetches it once, checks it and sends the bytes on), or a base64 data: URL.
   */
  'url'?: (string);
  /**
   * Optional; sniffed from the bytes when empty.
   */
  'mimeType': (string);
  'source'?: "data"|"url";
}
