/** Page-number pagination over every collection: the request, the page, and its offset. */

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 100;

export interface PageRequest {
  page: number;
  limit: number;
}

export function toPage<T>(data: T[], total: number, { page, limit }: PageRequest) {
  return { data, pagination: { total, page, limit, totalPages: Math.ceil(total / limit) } };
}

export function offsetOf({ page, limit }: PageRequest): number {
  return (page - 1) * limit;
}
