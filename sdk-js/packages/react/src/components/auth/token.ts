import { useEffect, useState } from 'react';

/**
 * The `token` of an emailed link: the prop when given, else `?token=` of the page's URL, read
 * after mounting (the server never sees `window`). `undefined` until known, `null` if absent.
 */
export function useLinkToken(given: string | undefined): string | null | undefined {
  const [fromUrl, setFromUrl] = useState<string | null | undefined>(undefined);
  useEffect(() => {
    if (given === undefined) setFromUrl(new URLSearchParams(window.location.search).get('token'));
  }, [given]);
  return given ?? fromUrl;
}
