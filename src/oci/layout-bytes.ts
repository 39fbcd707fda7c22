/** The exact bytes of an image layout's `oci-layout` file, as layoutfs writes and shows it. */
export const OCI_LAYOUT_BYTES = Buffer.from('{"imageLayoutVersion":"1.0.0"}');
