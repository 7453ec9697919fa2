// Knowledge & agents: indexing and source removal call `/rag`; a session
// is started, chatted with and decided on through `/agents/sessions`, and
// the page reloads the session fragment after each step. A problem from
// the agents API (no provider configured, an expired session) is shown
// beside the agent controls.
document.addEventListener('DOMContentLoaded', () => {
  const indexResult = document.getElementById('index-result');
  const problem = document.getElementById('agent-problem');
  const chat = document.getElementById('agent-chat');
  const sessionState = document.getElementById('agent-session-state');
  const decision = document.getElementById('agent-decision');

  const agentProblem = (message) => {
    problem.textContent = message ? `The agent cannot answer: ${message}` : '';
    problem.hidden = !message;
  };
  const sessionId = () => chat.elements.session_id.value;
  const showSession = () => htmx.ajax('GET', `/ui/knowledge/session?session_id=${sessionId()}`, {
    target: '#agent-session',
    swap: 'innerHTML',
  });
  const enableChat = (enabled) => {
    chat.elements.message.disabled = !enabled;
    chat.querySelector('[type="submit"]').disabled = !enabled;
  };

  FL.onSubmit(document.getElementById('index-form'), async (form) => {
    const v = FL.formValues(form);
    const body = { source_type: v.source_type, source_path: v.source_path };
    if (v.category) body.metadata = { category: v.category };
    indexResult.textContent = `Indexing ${v.source_path}…`;
    try {
      const done = await FL.api('POST', '/rag/index', body);
      indexResult.textContent = `${done.source_path}: ${done.status}, ${done.chunks_created} chunks.`;
    } catch (error) {
      indexResult.textContent = '';
      throw error;
    }
    htmx.trigger(document.body, 'sources-changed');
  });

  const projectDocs = document.getElementById('index-project-docs');
  projectDocs.addEventListener('click', async () => {
    FL.alertMessage('');
    projectDocs.disabled = true;
    indexResult.textContent = 'Indexing the project docs…';
    try {
      const done = await FL.api('POST', '/rag/index/project-docs', {});
      indexResult.textContent = `${done.total_files} files: ${done.indexed} indexed, ${done.updated} updated, `
        + `${done.unchanged} unchanged, ${done.failed} failed; ${done.total_chunks} chunks.`;
      htmx.trigger(document.body, 'sources-changed');
    } catch (error) {
      indexResult.textContent = '';
      FL.alertMessage(error.message);
    } finally {
      projectDocs.disabled = false;
    }
  });

  FL.onSubmit(document.getElementById('agent-start'), async (form) => {
    agentProblem('');
    decision.textContent = '';
    const { agent_type: agentType } = FL.formValues(form);
    try {
      const session = await FL.api('POST', '/agents/sessions', { agent_type: agentType });
      chat.elements.session_id.value = session.session_id;
      sessionState.textContent = `Session ${session.session_id} (${agentType}) is ${session.status}.`;
      enableChat(true);
      await showSession();
    } catch (error) {
      enableChat(false);
      sessionState.textContent = 'No session.';
      agentProblem(error.message);
    }
  });

  FL.onSubmit(chat, async (form) => {
    agentProblem('');
    const message = form.elements.message.value;
    form.elements.message.disabled = true;
    try {
      const answer = await FL.api('POST', `/agents/sessions/${sessionId()}/chat`, { message });
      form.elements.message.value = '';
      sessionState.textContent = answer.pending_approval
        ? `The agent waits for your decision on ${answer.pending_action.action_type}.`
        : `The agent answered (${answer.tool_calls.length} tool calls, ${answer.tokens_used} tokens).`;
    } catch (error) {
      agentProblem(error.message);
    } finally {
      form.elements.message.disabled = false;
    }
    await showSession();
  });

  document.addEventListener('click', async (event) => {
    const remove = event.target.closest('[data-delete-source]');
    if (remove) {
      FL.alertMessage('');
      try {
        await FL.api('DELETE', `/rag/sources/${remove.dataset.deleteSource}`);
        htmx.trigger(document.body, 'sources-changed');
      } catch (error) {
        FL.alertMessage(error.message);
      }
      return;
    }
    const decide = event.target.closest('[data-decide]');
    if (!decide) return;
    agentProblem('');
    const approved = decide.dataset.decide === 'approve';
    const reason = document.getElementById('decision-reason')?.value;
    const body = { action_id: decide.dataset.actionId, approved, approved_by: 'dashboard' };
    if (reason) body.reason = reason;
    decide.disabled = true;
    try {
      const outcome = await FL.api('POST', `/agents/sessions/${sessionId()}/approve`, body);
      decision.dataset.outcome = outcome.status;
      decision.textContent = `Action ${outcome.action_id}: ${outcome.status}.`;
    } catch (error) {
      agentProblem(error.message);
    }
    await showSession();
  });
});
