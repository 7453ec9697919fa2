// Showcase: a demo run streams over `WS /demo/stream` and its steps are
// shown grouped by phase as they arrive; the agent's held action is
// approved or rejected through `POST /demo/hitl-decision` inside its
// decision window. Workspaces are pinned, archived, tagged, exported and
// compared through the JSON API and the page's fragments; a replay starts
// a run with the workspace's own start frame.
document.addEventListener('DOMContentLoaded', () => {
  const form = document.getElementById('demo-form');
  const runState = document.getElementById('run-state');
  const progress = document.getElementById('run-progress');
  const phases = document.getElementById('run-phases');
  const summary = document.getElementById('run-summary');
  const hitl = document.getElementById('hitl');
  const hitlOutcome = document.getElementById('hitl-outcome');
  const startButton = form.querySelector('[type="submit"]');
  let countdown = null;
  let pendingAction = null;

  /** The start frame of the form's run. */
  function startFrame() {
    const v = FL.formValues(form);
    const frame = { seed: v.seed, scenario: v.scenario, reset: v.reset, skip_seed: !v.reseed };
    const overrides = {};
    for (const knob of ['stores', 'products', 'window_days']) {
      if (v[knob] !== undefined) overrides[knob] = v[knob];
    }
    if (v.reseed && Object.keys(overrides).length) frame.seed_overrides = overrides;
    if (v.keep) {
      frame.preservation = 'keep';
      if (v.workspace_name) frame.workspace_name = v.workspace_name;
    }
    return frame;
  }

  function phaseList(event) {
    const name = event.phase_name || 'pipeline';
    let section = phases.querySelector(`section[data-phase="${name}"]`);
    if (!section) {
      section = document.createElement('section');
      section.dataset.phase = name;
      section.setAttribute('aria-label', `Phase ${name}`);
      const title = document.createElement('h3');
      title.textContent = event.phase_index
        ? `Phase ${event.phase_index} of ${event.phase_total}: ${name}`
        : name;
      section.append(title, document.createElement('ol'));
      phases.appendChild(section);
    }
    return section.querySelector('ol');
  }

  function stepLine(event) {
    const list = phaseList(event);
    let item = list.querySelector(`li[data-step="${event.step_name}"]`);
    if (!item) {
      item = document.createElement('li');
      item.dataset.step = event.step_name;
      item.innerHTML = '<strong class="step-name"></strong> <span class="status"></span> <span class="step-detail"></span>';
      item.querySelector('.step-name').textContent = `${event.step_index}. ${event.step_name}`;
      list.appendChild(item);
    }
    return item;
  }

  function stopCountdown() {
    clearInterval(countdown);
    countdown = null;
    hitl.hidden = true;
    pendingAction = null;
  }

  function awaitDecision(event) {
    const data = event.data;
    pendingAction = data.action_id;
    hitl.dataset.action = data.action_id;
    document.getElementById('hitl-detail').textContent =
      `Session ${data.session_id} holds action ${data.action_id} (${data.tool_calls_count} tool calls, ${data.tokens_used} tokens).`;
    const left = document.getElementById('hitl-countdown');
    const deadline = Date.now() + data.decision_window_s * 1000;
    const tick = () => {
      left.textContent = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    };
    tick();
    clearInterval(countdown);
    countdown = setInterval(tick, 250);
    hitl.hidden = false;
    document.getElementById('hitl-approve').focus();
  }

  function show(event) {
    if (event.event_type === 'error') {
      runState.textContent = 'The run did not start.';
      FL.alertMessage(event.detail);
      return;
    }
    if (event.event_type === 'pipeline_complete') {
      finish(event);
      return;
    }
    progress.max = event.total_steps;
    const item = stepLine(event);
    const status = event.status || 'running';
    item.dataset.status = status;
    item.querySelector('.status').className = `status status-${status}`;
    item.querySelector('.status').textContent = event.event_type === 'step_start' ? 'running…' : status;
    const seconds = event.duration_ms ? ` (${(event.duration_ms / 1000).toFixed(2)} s)` : '';
    item.querySelector('.step-detail').textContent = `${event.detail || ''}${seconds}`;
    runState.textContent = `Step ${event.step_index} of ${event.total_steps}: ${event.step_name} ${status}.`;
    if (event.event_type === 'step_complete' && event.status === 'running' && event.data.awaiting_approval) {
      awaitDecision(event);
    } else if (event.event_type === 'step_complete') {
      progress.value = event.step_index;
      if (event.step_name === 'agent_hitl_flow') {
        stopCountdown();
        hitlOutcome.dataset.decision = event.data.approval_decision || '';
        hitlOutcome.textContent = `Agent step: ${event.detail}`;
      }
    }
  }

  function finish(event) {
    stopCountdown();
    progress.value = progress.max;
    const data = event.data;
    summary.dataset.status = event.status;
    summary.innerHTML = '<h3>Run finished</h3><dl class="facts"></dl>';
    const facts = summary.querySelector('dl');
    const fact = (term, value) => {
      const dt = document.createElement('dt');
      const dd = document.createElement('dd');
      dt.textContent = term;
      dd.textContent = value ?? '—';
      facts.append(dt, dd);
    };
    fact('Outcome', event.status);
    fact('Summary', event.detail);
    fact('Winner', data.winner_model_type);
    fact('Winner WAPE', data.winner_wape == null ? null : Number(data.winner_wape).toFixed(4));
    fact('Alias', data.alias);
    fact('Workspace', data.workspace_id);
    runState.textContent = `The run finished: ${event.status}.`;
    htmx.trigger(document.body, 'workspaces-changed');
    if (data.workspace_id) {
      htmx.ajax('GET', `/ui/showcase/workspace?workspace_id=${data.workspace_id}`, {
        target: '#workspace-detail',
        swap: 'innerHTML',
      });
    }
  }

  /** Streams one run; resolves when the server closes the socket. */
  function run(frame) {
    FL.alertMessage('');
    phases.replaceChildren();
    summary.replaceChildren();
    delete summary.dataset.status;
    hitlOutcome.textContent = '';
    progress.value = 0;
    runState.textContent = 'Starting…';
    startButton.disabled = true;
    return new Promise((resolve) => {
      const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
      const socket = new WebSocket(`${scheme}://${window.location.host}/demo/stream`);
      socket.addEventListener('open', () => socket.send(JSON.stringify(frame)));
      socket.addEventListener('message', (message) => show(JSON.parse(message.data)));
      socket.addEventListener('close', () => {
        startButton.disabled = false;
        stopCountdown();
        if (!summary.dataset.status && runState.textContent !== 'The run did not start.') {
          runState.textContent = 'The stream closed before the run finished.';
        }
        resolve();
      });
    });
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    run(startFrame());
  });

  async function decide(decision) {
    if (!pendingAction) return;
    const body = { action_id: pendingAction, decision };
    const reason = document.getElementById('hitl-reason').value;
    if (reason) body.reason = reason;
    try {
      await FL.api('POST', '/demo/hitl-decision', body);
      hitlOutcome.textContent = `Decision sent: ${decision}.`;
      hitl.hidden = true;
    } catch (error) {
      FL.alertMessage(error.message);
    }
  }
  document.getElementById('hitl-approve').addEventListener('click', () => decide('approved'));
  document.getElementById('hitl-reject').addEventListener('click', () => decide('rejected'));

  const action = document.getElementById('workspace-action');
  const reloadDetail = (id) => htmx.ajax('GET', `/ui/showcase/workspace?workspace_id=${id}`, {
    target: '#workspace-detail',
    swap: 'innerHTML',
  });

  document.addEventListener('click', async (event) => {
    const patch = event.target.closest('[data-patch]');
    const exporter = event.target.closest('[data-export]');
    const replay = event.target.closest('[data-replay]');
    if (!patch && !exporter && !replay) return;
    FL.alertMessage('');
    try {
      if (patch) {
        const body = { [patch.dataset.field]: patch.dataset.value === 'true' };
        await FL.api('PATCH', `/demo/workspaces/${patch.dataset.patch}`, body);
        htmx.trigger(document.body, 'workspaces-changed');
      } else if (exporter) {
        const bundle = await FL.api('POST', `/demo/workspaces/${exporter.dataset.export}/export`);
        action.dataset.validated = String(bundle.validated);
        action.textContent = `Bundle written to ${bundle.bundle_path}: ${bundle.files.length} files, `
          + `${bundle.scenario_plans_exported} plans, ${bundle.model_runs_referenced} runs, `
          + `checksums ${bundle.validated ? 'verified' : 'NOT verified'}.`;
      } else {
        window.scrollTo({ top: 0 });
        await run(JSON.parse(replay.dataset.replay));
      }
    } catch (error) {
      FL.alertMessage(error.message);
    }
  });

  document.addEventListener('submit', async (event) => {
    const edit = event.target.closest('form.workspace-edit');
    if (!edit) return;
    event.preventDefault();
    FL.alertMessage('');
    const v = FL.formValues(edit);
    const tags = (v.tags || '').split(',').map((t) => t.trim()).filter(Boolean);
    try {
      await FL.api('PATCH', `/demo/workspaces/${edit.dataset.workspace}`, { tags, notes: v.notes ?? null });
      action.textContent = 'Tags and notes saved.';
      htmx.trigger(document.body, 'workspaces-changed');
      await reloadDetail(edit.dataset.workspace);
    } catch (error) {
      FL.alertMessage(error.message);
    }
  });

  document.getElementById('workspace-compare').addEventListener('click', async () => {
    FL.alertMessage('');
    const ids = [...document.querySelectorAll('#workspaces input[name=compare]:checked')].map((b) => b.value);
    if (ids.length !== 2) {
      FL.alertMessage('Select exactly two workspaces to compare.');
      return;
    }
    await htmx.ajax('GET', `/ui/showcase/compare?a=${ids[0]}&b=${ids[1]}`, {
      target: '#workspace-comparison',
      swap: 'innerHTML',
    });
  });
});
