import { EmptyState } from '../../ui/feedback';

export function RevisionsPage() {
  return (
    <EmptyState title="Coming soon">
      <p>This page is not built yet.</p>
    </EmptyState>
  );
}
