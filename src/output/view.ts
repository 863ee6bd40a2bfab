/** How results are drawn for people, from the global options (--no-color, NO_COLOR, --quiet). */
export interface View {
  color: boolean;
  quiet: boolean;
}
