// placeholder for a packaging trial; replaced by the real handler
export const handler = async (): Promise<void> => {};
