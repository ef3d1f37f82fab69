
  # nothing

exit # done
