/** The completion scripts for bash, zsh and fish: each asks `synap __complete` at every Tab. */

export function bashScript(): string {
  return `# synap bash completion. Install: synap completion bash > ~/.local/share/bash-completion/completions/synap
_synap_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" out directive line
  local -a values=()
  out=$(command synap __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return 0
  directive=\${out%%$'\\n'*}
  case "$directive" in
    :files)
      # As file names: quoted, and a directory gets "/" and no trailing space.
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
    :dirs)
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
    :values)
      while IFS= read -r line; do values+=("\${line%%$'\\t'*}"); done <<< "\${out#*$'\\n'}"
      COMPREPLY=()
      for line in "\${values[@]}"; do
        [[ -n "$line" && "$line" == "$cur"* ]] && COMPREPLY+=("$line")
      done ;;
    *) COMPREPLY=() ;;
  esac
  return 0
}
complete -F _synap_complete synap
`;
}

export function zshScript(): string {
  return `#compdef synap
# synap zsh completion. Install: synap completion zsh > "\${fpath[1]}/_synap" (then restart zsh),
# or add to ~/.zshrc: source <(synap completion zsh)
_synap() {
  local -a lines described
  local line
  lines=("\${(@f)$(command synap __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  case "\${lines[1]}" in
    :files) _files ;;
    :dirs) _files -/ ;;
    :values)
      for line in "\${(@)lines[2,-1]}"; do
        [[ -z "$line" ]] && continue
        if [[ "$line" == *$'\\t'* ]]; then
          described+=("\${\${line%%$'\\t'*}//:/\\\\:}:\${line#*$'\\t'}")
        else
          described+=("\${line//:/\\\\:}")
        fi
      done
      _describe -t values 'synap' described ;;
    *) return 1 ;;
  esac
}
if [[ "\${zsh_eval_context[-1]}" == loadautofunc ]]; then
  _synap "$@"
else
  compdef _synap synap
fi
`;
}

export function fishScript(): string {
  return `# synap fish completion. Install: synap completion fish > ~/.config/fish/completions/synap.fish
function __synap_complete
    set -l words (commandline -opc) (commandline -ct)
    set -e words[1]
    set -l out (command synap __complete -- $words 2>/dev/null)
    switch "$out[1]"
        case :files
            __fish_complete_path (commandline -ct)
        case :dirs
            __fish_complete_directories (commandline -ct)
        case :values
            printf '%s\\n' $out[2..-1]
    end
end
complete -c synap -f -a '(__synap_complete)'
`;
}
