// Whether the signed-in platform user is an operator (`GET /v1/me`), asked once per user.
import { useEffect, useState } from 'react';
import type { ControlPlane } from '../../api/controlPlane';

/** true or false once `/v1/me` answered; null before, when signed out, or when it failed (no Ops nav then). */
export function useOperator(api: ControlPlane, userId: string | null): boolean | null {
  const [answer, setAnswer] = useState<{ userId: string; operator: boolean | null } | null>(null);
  useEffect(() => {
    if (!userId) return;
    let live = true;
    api.me().then(
      (me) => live && setAnswer({ userId, operator: me.operator === true }),
      // An older control plane (404) or a failure: the nav stays without Ops.
      () => live && setAnswer({ userId, operator: null }),
    );
    return () => {
      live = false;
    };
  }, [api, userId]);
  return userId && answer?.userId === userId ? answer.operator : null;
}
