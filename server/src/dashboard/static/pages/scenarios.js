// Scenarios: a train job gives the model; the assumptions become one
// `POST /scenarios/simulate` body, simulated through the page's fragment
// or saved with `POST /scenarios`; saved plans are compared and deleted
// through the JSON API.
document.addEventListener('DOMContentLoaded', () => {
  const modelForm = document.getElementById('scenario-model-form');
  const form = document.getElementById('scenario-form');
  const progress = document.getElementById('scenario-progress');
  const saveButton = document.getElementById('scenario-save');
  const simulateButton = form.querySelector('[type="submit"]');

  const isoDay = (day, offset) => {
    const date = new Date(`${day}T00:00:00Z`);
    date.setUTCDate(date.getUTCDate() + offset);
    return date.toISOString().slice(0, 10);
  };
  const list = (text) => (text || '').split(',').map((s) => s.trim()).filter(Boolean);

  // The simulate body: assumptions over the horizon after the training end.
  function simulation() {
    const v = FL.formValues(form);
    const first = isoDay(v.train_end_date, 1);
    const last = isoDay(v.train_end_date, v.horizon);
    const assumptions = {};
    if (v.price_change_pct !== undefined) {
      assumptions.price = { change_pct: v.price_change_pct / 100, start_date: first, end_date: last };
    }
    if (v.promotion_kind) {
      const days = Math.min(v.promotion_days || v.horizon, v.horizon);
      assumptions.promotion = { kind: v.promotion_kind, start_date: first, end_date: isoDay(first, days - 1) };
    }
    if (v.holiday_dates) assumptions.holiday = { dates: list(v.holiday_dates) };
    if (v.on_hand_units !== undefined) assumptions.inventory = { on_hand_units: v.on_hand_units };
    if (v.lifecycle_stage) assumptions.lifecycle = { stage: v.lifecycle_stage };
    const body = { run_id: v.run_id, horizon: v.horizon, assumptions };
    if (v.method) body.method = v.method;
    return { body, name: v.name, tags: list(v.tags) };
  }

  FL.onSubmit(modelForm, async (element) => {
    const v = FL.formValues(element);
    progress.replaceChildren();
    const train = await FL.runJob('train', {
      model_type: v.model_type,
      store_id: Number(v.store_id),
      product_id: Number(v.product_id),
      start_date: v.start_date,
      end_date: v.end_date,
    }, `Training ${v.model_type}`, progress);
    form.elements.run_id.value = train.result.artifact_key;
    form.elements.train_end_date.value = v.end_date;
    document.getElementById('scenario-model').textContent =
      `${v.model_type} on store ${v.store_id} × product ${v.product_id}, trained to ${v.end_date}.`;
    simulateButton.disabled = false;
    saveButton.disabled = false;
  });

  FL.onSubmit(form, async () => {
    const { body } = simulation();
    await htmx.ajax('GET', `/ui/scenarios/simulation?request=${encodeURIComponent(JSON.stringify(body))}`, {
      target: '#scenario-result',
      swap: 'innerHTML',
    });
  });

  saveButton.addEventListener('click', async () => {
    FL.alertMessage('');
    saveButton.disabled = true;
    try {
      const { body, name, tags } = simulation();
      const plan = await FL.api('POST', '/scenarios', {
        ...body,
        name: name || `Plan ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`,
        tags,
      });
      htmx.trigger(document.body, 'plans-changed');
      await htmx.ajax('GET', `/ui/scenarios/plan?scenario_id=${plan.scenario_id}`, {
        target: '#scenario-result',
        swap: 'innerHTML',
      });
    } catch (error) {
      FL.alertMessage(error.message);
    } finally {
      saveButton.disabled = false;
    }
  });

  document.getElementById('scenario-compare').addEventListener('click', async () => {
    FL.alertMessage('');
    const ids = [...document.querySelectorAll('#scenario-plans input[name=compare]:checked')]
      .map((box) => box.value);
    const rankBy = document.getElementById('compare-rank-by').value;
    await htmx.ajax('GET', `/ui/scenarios/compare?ids=${ids.join(',')}&rank_by=${rankBy}`, {
      target: '#scenario-comparison',
      swap: 'innerHTML',
    });
  });

  document.addEventListener('click', async (event) => {
    const button = event.target.closest('[data-delete-plan]');
    if (!button) return;
    FL.alertMessage('');
    try {
      await FL.api('DELETE', `/scenarios/${button.dataset.deletePlan}`);
      htmx.trigger(document.body, 'plans-changed');
    } catch (error) {
      FL.alertMessage(error.message);
    }
  });
});
