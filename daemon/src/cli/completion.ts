import type { Command, Option } from 'commander';

/*
 * Shell completion generated from the commander tree itself, so it never falls behind the
 * commands: subcommands at each level, options when the word starts with `-`, an option's
 * choices after it, and after `run … --` the shell's own completion of a program.
 */

interface Level {
  /** Subcommand words leading here, space-separated ('' for the top level). */
  path: string;
  commands: Array<[name: string, description: string]>;
  options: Array<[flag: string, description: string]>;
  /** Options whose value is one of a few choices. */
  choices: Array<[flag: string, values: string[]]>;
}

function levels(program: Command): Level[] {
  // Options of the program that also work after a subcommand (`--version` only works alone).
  const global = program.options.filter((option) => option.long !== '--version');
  const found: Level[] = [];
  const walk = (command: Command, path: string) => {
    const options = command === program ? program.options : [...command.options, ...global];
    const flags = (option: Option) => [option.long, option.short].filter((flag): flag is string => Boolean(flag));
    found.push({
      path,
      commands: command.commands.map((sub) => [sub.name(), sub.description()]),
      // `daemon --home` repeats the global `--home`: each flag once.
      options: [
        ...new Map<string, string>([
          ...options.flatMap((o) => flags(o).map((flag) => [flag, o.description] as const)),
          ['--help', 'show help'],
        ]),
      ],
      choices: options
        .filter((o) => o.argChoices)
        .flatMap((o) => flags(o).map((flag) => [flag, o.argChoices!] as [string, string[]])),
    });
    for (const sub of command.commands) walk(sub, path ? `${path} ${sub.name()}` : sub.name());
  };
  walk(program, '');
  return found;
}

/** The completion script for `shell`. */
export function completionScript(program: Command, shell: 'bash' | 'zsh'): string {
  return shell === 'bash' ? bash(levels(program)) : zsh(levels(program));
}

const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
const knownPaths = (all: Level[]) => `|${all.map((l) => l.path).join('|')}|`;

function bash(all: Level[]): string {
  const cases = (pick: (l: Level) => string) =>
    all.map((l) => `        ${quote(l.path)}) words=${quote(pick(l))} ;;`).join('\n');
  const choiceCases = all
    .flatMap((l) =>
      l.choices.map(([flag, values]) => `    ${quote(`${l.path}|${flag}`)}) words=${quote(values.join(' '))} ;;`),
    )
    .join('\n');
  return `# bash completion for gatehouse. Load it with:  source <(gatehouse completion bash)
_gatehouse() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} cmdpath='' word words='' i
  local known=${quote(knownPaths(all))}
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    # After \`--\` come the program and its arguments (gatehouse run): leave them to the shell.
    [[ $word == -- ]] && return 0
    [[ $known == *"|\${cmdpath:+$cmdpath }$word|"* ]] && cmdpath="\${cmdpath:+$cmdpath }$word"
  done
  case "$cmdpath|$prev" in
${choiceCases}
  esac
  if [[ -z $words ]]; then
    if [[ $cur == -* ]]; then
      case $cmdpath in
${cases((l) => l.options.map(([flag]) => flag).join(' '))}
      esac
    else
      case $cmdpath in
${cases((l) => l.commands.map(([name]) => name).join(' '))}
      esac
    fi
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _gatehouse gatehouse
`;
}

function zsh(all: Level[]): string {
  // _describe reads "word:description"; a colon inside the word or description needs a backslash.
  const entries = (pairs: Array<[string, string]>) =>
    pairs.map(([word, description]) => quote(`${word}:${description.replace(/:/g, '\\:')}`)).join(' ');
  const cases = (pick: (l: Level) => Array<[string, string]>) =>
    all.map((l) => `    ${quote(l.path)}) candidates=(${entries(pick(l))}) ;;`).join('\n');
  const choiceCases = all
    .flatMap((l) =>
      l.choices.map(
        ([flag, values]) => `    ${quote(`${l.path}|${flag}`)}) candidates=(${values.map(quote).join(' ')}) ;;`,
      ),
    )
    .join('\n');
  return `#compdef gatehouse
# zsh completion for gatehouse. Load it with:  source <(gatehouse completion zsh)
# or save it as _gatehouse in a directory of your $fpath.
_gatehouse() {
  local cmdpath='' word i
  local known=${quote(knownPaths(all))}
  local -a candidates
  for ((i = 2; i < CURRENT; i++)); do
    word=\${words[i]}
    # After \`--\` come the program and its arguments (gatehouse run): complete them as a command line.
    if [[ $word == -- ]]; then
      shift $i words
      (( CURRENT -= i ))
      _normal
      return
    fi
    [[ $known == *"|\${cmdpath:+$cmdpath }$word|"* ]] && cmdpath="\${cmdpath:+$cmdpath }$word"
  done
  case "$cmdpath|\${words[CURRENT-1]}" in
${choiceCases}
  esac
  if (( \${#candidates} )); then
    compadd -a candidates
  elif [[ \${words[CURRENT]} == -* ]]; then
    case $cmdpath in
${cases((l) => l.options)}
    esac
    _describe -t options option candidates
  else
    case $cmdpath in
${cases((l) => l.commands)}
    esac
    _describe -t commands command candidates
  fi
}
if [[ \${funcstack[1]} == _gatehouse ]]; then _gatehouse "$@"; else compdef _gatehouse gatehouse; fi
`;
}
