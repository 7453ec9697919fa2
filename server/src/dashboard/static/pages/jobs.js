// Jobs: cancelling a job and queueing a batch job.
document.addEventListener('DOMContentLoaded', () => {
  document.addEventListener('click', async (event) => {
    const button = event.target.closest('[data-cancel-job]');
    if (!button) return;
    button.disabled = true;
    try {
      await FL.api('DELETE', `/jobs/${button.dataset.cancelJob}`);
    } catch (error) {
      FL.alertMessage(error.message);
    }
    htmx.trigger(document.body, 'jobs-changed');
  });

  const status = document.getElementById('batch-status');
  const ids = (text) => (text ? text.split(',').map((id) => Number(id.trim())).filter(Boolean) : undefined);
  FL.onSubmit(document.getElementById('batch-form'), async (form) => {
    const v = FL.formValues(form);
    const params = {
      model_type: v.model_type,
      start_date: v.start_date,
      end_date: v.end_date,
      backtest: v.backtest,
    };
    if (ids(v.store_ids)) params.store_ids = ids(v.store_ids);
    if (ids(v.product_ids)) params.product_ids = ids(v.product_ids);
    const job = await FL.api('POST', '/jobs', { job_type: 'batch', params });
    status.textContent = `Queued batch job ${job.job_id}.`;
    htmx.trigger(document.body, 'jobs-changed');
  });
});
