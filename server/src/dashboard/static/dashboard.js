// ForecastLab dashboard: the API key, calls to the JSON API, htmx wiring
// and job polling. Shared by every page as `window.FL`.
(() => {
  'use strict';

  const KEY_STORAGE = 'forecastlab.apiKey';
  const POLL_MS = 500;

  const apiKey = () => sessionStorage.getItem(KEY_STORAGE) || '';

  /** Shows `message` in the page's alert region (empty hides it). */
  function alertMessage(message) {
    const region = document.getElementById('page-alert');
    if (!region) return;
    region.textContent = message || '';
    region.hidden = !message;
  }

  /** A readable message from a problem+json body (or any text). */
  function problemMessage(text, status) {
    try {
      const problem = JSON.parse(text);
      const fields = (problem.errors || [])
        .map((e) => `${e.field}: ${e.message}`)
        .join('; ');
      const detail = problem.detail || problem.title || `HTTP ${status}`;
      return fields ? `${detail} (${fields})` : detail;
    } catch (_) {
      return text || `HTTP ${status}`;
    }
  }

  /** Calls the JSON API; resolves with the parsed body, rejects with an
   * Error carrying the problem's detail. */
  async function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    const key = apiKey();
    if (key) headers.Authorization = `Bearer ${key}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(problemMessage(text, response.status));
    return text ? JSON.parse(text) : null;
  }

  /** The named controls of `form` as an object: numbers as numbers,
   * checkboxes as booleans, empty fields left out. */
  function formValues(form) {
    const values = {};
    for (const element of form.elements) {
      if (!element.name || element.disabled) continue;
      if (element.type === 'checkbox') {
        values[element.name] = element.checked;
      } else if (element.value !== '') {
        values[element.name] = element.type === 'number' ? Number(element.value) : element.value;
      }
    }
    return values;
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /** Queues a job, shows a progress line for it in `container` and polls
   * it until it settles; resolves with the completed job, rejects when it
   * failed or was cancelled. */
  async function runJob(jobType, params, label, container) {
    const line = document.createElement('div');
    line.className = 'step';
    line.innerHTML = '<span class="step-label"></span> <progress max="100" value="0"></progress> <span class="step-state">queued</span>';
    line.querySelector('.step-label').textContent = label;
    line.querySelector('progress').setAttribute('aria-label', `${label} progress`);
    container.appendChild(line);
    const state = line.querySelector('.step-state');
    let job = await api('POST', '/jobs', { job_type: jobType, params });
    line.dataset.job = job.job_id;
    htmx.trigger(document.body, 'jobs-changed');
    for (;;) {
      const { done, total } = job.progress;
      if (total > 0) line.querySelector('progress').value = Math.round((100 * done) / total);
      state.textContent = `${job.status} (job ${job.job_id})`;
      line.dataset.status = job.status;
      if (job.status === 'completed') return job;
      if (job.status === 'failed' || job.status === 'cancelled') {
        throw new Error(`${label} ${job.status}: ${job.error_message || 'no detail'}`);
      }
      await sleep(POLL_MS);
      job = await api('GET', `/jobs/${job.job_id}`);
    }
  }

  /** Runs `action` for a form's submit: disables its submit button and
   * reports an error in the alert region. */
  function onSubmit(form, action) {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const button = form.querySelector('[type="submit"]');
      if (button) button.disabled = true;
      alertMessage('');
      try {
        await action(form);
      } catch (error) {
        alertMessage(error.message);
      } finally {
        if (button) button.disabled = false;
      }
    });
  }

  // Every htmx request carries the key; GET requests drop empty fields so
  // "any" filters are simply absent.
  document.addEventListener('htmx:configRequest', (event) => {
    const key = apiKey();
    if (key) event.detail.headers.Authorization = `Bearer ${key}`;
    if (event.detail.verb === 'get') {
      const params = event.detail.parameters;
      for (const name of Object.keys(params)) {
        if (params[name] === '') delete params[name];
      }
    }
  });
  document.addEventListener('htmx:responseError', (event) => {
    const xhr = event.detail.xhr;
    alertMessage(problemMessage(xhr.responseText, xhr.status));
  });
  document.addEventListener('htmx:sendError', () => {
    alertMessage('The server cannot be reached.');
  });

  document.addEventListener('DOMContentLoaded', () => {
    const form = document.getElementById('api-key-form');
    if (!form) return;
    const input = document.getElementById('api-key');
    const state = document.getElementById('api-key-state');
    const show = () => { state.textContent = apiKey() ? 'A key is set for this tab.' : 'No key set.'; };
    show();
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (input.value) sessionStorage.setItem(KEY_STORAGE, input.value);
      input.value = '';
      show();
    });
    document.getElementById('api-key-forget').addEventListener('click', () => {
      sessionStorage.removeItem(KEY_STORAGE);
      show();
    });
  });

  window.FL = { api, alertMessage, formValues, onSubmit, runJob };
})();
